import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { INVITE_TTL_SECONDS, signInvite } from './account-links.ts';

interface SandboxMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

describe('accounts: invitations, password reset, change password, sign out everywhere, client users', () => {
  let t: TestApp;
  const clientA = uniqueId('acct-a');
  const clientB = uniqueId('acct-b');
  let adminA: TestUser;
  let viewerA: TestUser;
  let adminB: TestUser;
  let operator: TestUser;

  const mailDir = () => join(t.deps.config.dataDir, 'mail');
  const mailsTo = (email: string): SandboxMail[] =>
    existsSync(mailDir())
      ? readdirSync(mailDir())
          .sort()
          .map((f) => JSON.parse(readFileSync(join(mailDir(), f), 'utf8')) as SandboxMail)
          .filter((m) => m.to === email)
      : [];
  const tokenIn = (mail: SandboxMail | undefined) => /#token=([\w.-]+)/.exec(mail?.text ?? '')?.[1] ?? '';
  const post = (url: string, payload: unknown, token?: string) =>
    t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: token ? bearer(token) : {} });
  const login = (email: string, password: string) => post('/api/auth/login', { email, password });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(clientA, { name: 'Acme Tax' }));
    writeClientFile(dir, testClientConfig(clientB, { name: 'Bright Dental' }));
    t = await createTestApp({ clientsDir: dir });
    [adminA, viewerA, adminB, operator] = await Promise.all([
      loginAs(t, 'client_admin', clientA),
      loginAs(t, 'client_viewer', clientA),
      loginAs(t, 'client_admin', clientB),
      loginAs(t, 'platform_admin'),
    ]);
  });
  afterAll(() => t.close());

  it('role boundaries: no token 401, a viewer 403, another client 404, its own admin and the operator allowed', async () => {
    const cases: { name: string; method: 'GET' | 'POST' | 'PATCH'; url: (client: string) => string; body?: Record<string, unknown>; ok: number }[] = [
      { name: 'list users', method: 'GET', url: (c) => `/api/clients/${c}/users`, ok: 200 },
      { name: 'invite', method: 'POST', url: (c) => `/api/clients/${c}/invites`, body: { email: `${uniqueId('inv')}@example.test`, role: 'client_viewer' }, ok: 202 },
    ];
    for (const c of cases) {
      const send = (client: string, token?: string, body = c.body) =>
        t.app.inject({ method: c.method, url: c.url(client), headers: token ? bearer(token) : {}, ...(body ? { payload: { ...body, email: `${uniqueId('inv')}@example.test` } } : {}) });
      expect((await send(clientA)).statusCode, `${c.name}: no token`).toBe(401);
      expect((await send(clientA, viewerA.accessToken)).statusCode, `${c.name}: viewer`).toBe(403);
      const other = await send(clientB, adminA.accessToken);
      expect(other.statusCode, `${c.name}: A's admin on B`).toBe(404);
      expect(other.body).not.toContain('Bright Dental');
      expect((await send('no-such-client', adminA.accessToken)).statusCode, `${c.name}: unknown client`).toBe(404);
      expect((await send(clientA, adminA.accessToken)).statusCode, `${c.name}: A's admin on A`).toBe(c.ok);
      expect((await send(clientB, operator.accessToken)).statusCode, `${c.name}: operator on B`).toBe(c.ok);
    }
    const listed = await t.app.inject({ method: 'GET', url: `/api/clients/${clientA}/users`, headers: bearer(adminA.accessToken) });
    const emails = (listed.json().users as { email: string }[]).map((u) => u.email);
    expect(emails).toEqual(expect.arrayContaining([adminA.email, viewerA.email]));
    expect(emails).not.toContain(adminB.email);
    expect(listed.body).not.toMatch(/scrypt|password/);

    // Managing users: A's admin changes A's viewer, never B's users (even through A's path), never itself.
    const patch = (client: string, userId: string, body: Record<string, unknown>, token = adminA.accessToken) =>
      t.app.inject({ method: 'PATCH', url: `/api/clients/${client}/users/${userId}`, headers: bearer(token), payload: body });
    expect((await patch(clientA, adminB.id, { disabled: true })).statusCode).toBe(404);
    expect((await patch(clientB, adminB.id, { disabled: true })).statusCode).toBe(404);
    expect((await patch(clientA, adminA.id, { role: 'client_viewer' })).statusCode).toBe(409);
    expect((await patch(clientA, viewerA.id, { role: 'platform_admin' })).statusCode).toBe(400);
    expect((await patch(clientA, adminA.id, { disabled: true }, viewerA.accessToken)).statusCode).toBe(403);
    const promoted = await patch(clientA, viewerA.id, { role: 'client_admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json().user).toMatchObject({ role: 'client_admin', client_id: clientA });
    // The change ended the viewer's sessions: the token they held is refused.
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(viewerA.accessToken) })).statusCode).toBe(401);
    expect((await patch(clientA, viewerA.id, { role: 'client_viewer' })).statusCode).toBe(200);

    // A client admin cannot invite a platform admin, nor into another client.
    expect((await post(`/api/clients/${clientA}/invites`, { email: 'boss@example.test', role: 'platform_admin' }, adminA.accessToken)).statusCode).toBe(400);
    expect(mailsTo('boss@example.test')).toEqual([]);
  });

  it('an invitation email carries a signed link that creates the account once; tampered or expired links are refused', async () => {
    const email = `${uniqueId('new')}@example.test`;
    const sent = await post(`/api/clients/${clientA}/invites`, { email, role: 'client_viewer' }, adminA.accessToken);
    expect(sent.statusCode).toBe(202);
    expect(sent.json().invite).toMatchObject({ email, role: 'client_viewer', client_id: clientA });
    const [mail] = mailsTo(email);
    expect(mail?.subject).toContain('Acme Tax');
    expect(mail?.text).toContain(`http://localhost:3000/accept-invite#token=`);
    const token = tokenIn(mail);

    expect((await post('/api/auth/invites/describe', { token })).json().invite).toMatchObject({ email, role: 'client_viewer', client_id: clientA });
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await post('/api/auth/invites/accept', { token: tampered, password: 'a-long-enough-password' })).statusCode).toBe(401);
    const expired = signInvite(t.deps.config.jwtSecret, { email, role: 'client_admin', clientId: clientA, invitedBy: adminA.id }, Math.floor(Date.now() / 1000) - INVITE_TTL_SECONDS - 1);
    const late = await post('/api/auth/invites/accept', { token: expired, password: 'a-long-enough-password' });
    expect(late.statusCode).toBe(401);
    expect(late.json().error.message).toContain('expired');
    // Signed for another purpose (an access token) is not an invitation.
    expect((await post('/api/auth/invites/accept', { token: adminA.accessToken, password: 'a-long-enough-password' })).statusCode).toBe(401);
    expect((await post('/api/auth/invites/accept', { token, password: 'short' })).statusCode).toBe(400);

    const accepted = await post('/api/auth/invites/accept', { token, password: 'a-long-enough-password' });
    expect(accepted.statusCode).toBe(201);
    expect(accepted.json().user).toMatchObject({ email, role: 'client_viewer', client_id: clientA });
    expect((await login(email, 'a-long-enough-password')).statusCode).toBe(200);
    expect((await post('/api/auth/invites/accept', { token, password: 'another-long-password' })).statusCode).toBe(409);

    const audit = await t.app.inject({ method: 'GET', url: `/api/admin/audit?client_id=${clientA}`, headers: bearer(operator.accessToken) });
    const actions = (audit.json().items as { action: string; actor_user_id: string }[]).map((i) => `${i.action}:${i.actor_user_id}`);
    expect(actions).toEqual(expect.arrayContaining([`user.invite:${adminA.id}`, `user.create:${adminA.id}`]));
    // An existing account cannot be invited again.
    expect((await post(`/api/clients/${clientA}/invites`, { email, role: 'client_admin' }, adminA.accessToken)).statusCode).toBe(409);
  });

  it('password reset: the same answer for any address, a link that works once, every old session ended', async () => {
    const user = await loginAs(t, 'client_viewer', clientB);
    const unknown = `${uniqueId('nobody')}@example.test`;
    const [known, stranger] = await Promise.all([post('/api/auth/password-reset', { email: user.email }), post('/api/auth/password-reset', { email: unknown })]);
    expect([known.statusCode, stranger.statusCode]).toEqual([202, 202]);
    expect(known.body).toBe(stranger.body);
    await expect.poll(() => mailsTo(user.email).length).toBe(1);
    expect(mailsTo(unknown)).toEqual([]);
    const token = tokenIn(mailsTo(user.email)[0]);
    expect(mailsTo(user.email)[0]?.text).toContain('/reset-password#token=');

    expect((await post('/api/auth/password-reset/confirm', { token, password: 'brand-new-password-1' })).statusCode).toBe(204);
    expect((await login(user.email, user.password)).statusCode).toBe(401);
    expect((await login(user.email, 'brand-new-password-1')).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) })).statusCode).toBe(401);
    const again = await post('/api/auth/password-reset/confirm', { token, password: 'brand-new-password-2' });
    expect(again.statusCode).toBe(401);
    expect((await login(user.email, 'brand-new-password-1')).statusCode).toBe(200);
  });

  it('changing the password needs the current one; signing out everywhere ends every session', async () => {
    const user = await loginAs(t, 'client_admin', clientB);
    const first = (await login(user.email, user.password)).json();
    const wrong = await post('/api/auth/password', { current_password: 'not-it-at-all', new_password: 'changed-password-1' }, first.access_token);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');
    expect((await post('/api/auth/password', { current_password: user.password, new_password: 'changed-password-1' })).statusCode).toBe(401);
    expect((await post('/api/auth/password', { current_password: user.password, new_password: 'changed-password-1' }, first.access_token)).statusCode).toBe(204);
    expect((await post('/api/auth/refresh', { refresh_token: first.refresh_token })).statusCode).toBe(401);
    expect((await login(user.email, 'changed-password-1')).statusCode).toBe(200);

    // At once (the same second as the password change): two devices, then sign out everywhere from one.
    const phone = (await login(user.email, 'changed-password-1')).json();
    const laptop = (await login(user.email, 'changed-password-1')).json();
    expect((await post('/api/auth/logout-all', {})).statusCode).toBe(401);
    expect((await post('/api/auth/logout-all', {}, laptop.access_token)).statusCode).toBe(204);
    for (const session of [phone, laptop]) {
      expect((await post('/api/auth/refresh', { refresh_token: session.refresh_token })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(session.access_token) })).statusCode).toBe(401);
    }
    expect((await login(user.email, 'changed-password-1')).statusCode).toBe(200);
  });
});
