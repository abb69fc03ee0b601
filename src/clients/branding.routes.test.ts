import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { platformBrand, readableTextColor } from './branding.ts';

describe('brands: public by host before sign-in, per client after', () => {
  let t: TestApp;
  const branded = uniqueId('brand-file');
  const plain = uniqueId('brand-plain');
  const dbClient = uniqueId('brand-db');
  const host = `portal.${branded}.example`;
  const logo = 'https://cdn.example.com/bright-smile/logo.svg';
  let operator: TestUser;
  let owner: TestUser;
  let otherOwner: TestUser;

  const brandAt = (hostHeader: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: '/api/branding', headers: { host: hostHeader, ...headers } });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(
      dir,
      testClientConfig(branded, {
        name: 'Bright Smile Dental LLC',
        notifications: { business_email: 'owner@brightsmile.example' },
        branding: { display_name: 'Bright Smile', logo_url: logo, primary_color: '#FFD700', custom_host: host.toUpperCase() },
      }),
    );
    writeClientFile(dir, testClientConfig(plain, { name: 'Plain Plumbing' }));
    t = await createTestApp({ clientsDir: dir, env: { TRUST_PROXY_HOPS: '1' } });
    operator = await loginAs(t, 'platform_admin');
    [owner, otherOwner] = await Promise.all([loginAs(t, 'client_admin', branded), loginAs(t, 'client_admin', plain)]);
  });
  afterAll(() => t.close());

  it("answers a custom host's brand, whatever its case or port, and nothing else about the client", async () => {
    for (const hostHeader of [host, `${host}:8443`, host.toUpperCase(), `${host}.`]) {
      const res = await brandAt(hostHeader);
      expect(res.statusCode, hostHeader).toBe(200);
      expect(res.json(), hostHeader).toEqual({
        source: 'client',
        brand: { display_name: 'Bright Smile', logo_url: logo, primary_color: '#ffd700', on_primary_color: '#0f172a', primary_text_color: readableTextColor('#ffd700') },
      });
    }
    const body = (await brandAt(host)).body;
    for (const secret of [branded, 'Bright Smile Dental LLC', 'owner@brightsmile.example', 'key_test_', 'agent_', '+1415']) expect(body).not.toContain(secret);
    expect((await brandAt(host)).headers.vary).toContain('Host');
  });

  it('answers the platform brand for any other host, never an error', async () => {
    for (const hostHeader of ['localhost:3000', 'unknown.example.com', '127.0.0.1', `x.${host}`, '[::1]:3000']) {
      const res = await brandAt(hostHeader);
      expect(res.statusCode, hostHeader).toBe(200);
      expect(res.json(), hostHeader).toEqual({ source: 'platform', brand: platformBrand() });
    }
  });

  it('reads X-Forwarded-Host only through a trusted proxy hop', async () => {
    const proxied = await brandAt('internal-lb:8080', { 'x-forwarded-host': host });
    expect(proxied.json().source).toBe('client');
    const direct = await createTestApp({ clientsDir: t.clientsDir });
    try {
      const res = await direct.app.inject({ method: 'GET', url: '/api/branding', headers: { host: 'internal-lb:8080', 'x-forwarded-host': host } });
      expect(res.json().source).toBe('platform');
    } finally {
      await direct.close();
    }
  });

  it("gives a signed-in user their client's brand: 401 without a token, another client's 404", async () => {
    const url = `/api/clients/${branded}/branding`;
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(otherOwner.accessToken) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/api/clients/nope-${plain}/branding`, headers: bearer(operator.accessToken) })).statusCode).toBe(404);
    for (const user of [owner, operator]) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(user.accessToken) });
      expect(res.statusCode).toBe(200);
      expect(res.json().brand).toMatchObject({ display_name: 'Bright Smile', logo_url: logo });
    }
    // Without branding: the client's name in the platform's colors.
    const unbranded = await t.app.inject({ method: 'GET', url: `/api/clients/${plain}/branding`, headers: bearer(otherOwner.accessToken) });
    expect(unbranded.json()).toEqual({ source: 'client', brand: { ...platformBrand(), display_name: 'Plain Plumbing' } });
  });

  it('database-backed clients: branding set through the admin API and the settings PATCH, a taken host refused before anything is written', async () => {
    const dbHost = `book.${dbClient}.example`;
    const create = await t.app.inject({
      method: 'POST',
      url: '/api/admin/clients',
      headers: bearer(operator.accessToken),
      payload: testClientConfig(dbClient, { branding: { display_name: 'Harbor Vets', custom_host: dbHost } }),
    });
    expect(create.statusCode).toBe(201);
    expect((await brandAt(dbHost)).json().brand.display_name).toBe('Harbor Vets');

    // Another client naming the same host: 409 naming both, and no client is created.
    const second = uniqueId('brand-db2');
    const clash = await t.app.inject({
      method: 'POST',
      url: '/api/admin/clients',
      headers: bearer(operator.accessToken),
      payload: testClientConfig(second, { branding: { custom_host: host } }),
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.message).toBe(`$.branding.custom_host: ${host} is already used by client "${branded}"; clients "${branded}" and "${second}" cannot share it`);
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/clients/${second}`, headers: bearer(operator.accessToken) })).statusCode).toBe(404);

    const admin = await loginAs(t, 'client_admin', dbClient);
    const patch = (changes: Record<string, unknown>, version: number) =>
      t.app.inject({ method: 'PATCH', url: `/api/clients/${dbClient}/settings`, headers: bearer(admin.accessToken), payload: { version, changes } });
    const version = (await t.app.inject({ method: 'GET', url: `/api/clients/${dbClient}/settings/editable`, headers: bearer(admin.accessToken) })).json().version as number;

    const bad = await patch({ branding: { primary_color: 'teal', logo_url: 'http://cdn.example.com/l.png' } }, version);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('$.branding.primary_color');
    expect(bad.json().error.message).toContain('$.branding.logo_url');
    // The client's admin learns the host is taken, by field, but not which client holds it.
    const taken = await patch({ branding: { custom_host: host } }, version);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toMatchObject({ code: 'conflict', message: `$.branding.custom_host: ${host} is already used by another client` });
    expect(taken.json().error.issues).toEqual([{ path: '$.branding.custom_host', message: `${host} is already used by another client` }]);
    expect(taken.body).not.toContain(`client "${branded}"`);

    const ok = await patch({ branding: { primary_color: '#0F766E', logo_url: logo } }, version);
    expect(ok.statusCode).toBe(200);
    expect((await brandAt(dbHost)).json().brand).toMatchObject({ display_name: 'Harbor Vets', primary_color: '#0f766e', logo_url: logo, on_primary_color: '#ffffff' });
    // null lets the host go (JSON merge patch): the host shows the platform again.
    expect((await patch({ branding: { custom_host: null } }, version + 1)).statusCode).toBe(200);
    expect((await brandAt(dbHost)).json().source).toBe('platform');
  });

  it("account emails wear the client's brand and link to its host; the platform's users get the platform's", async () => {
    const mailDir = join(t.deps.config.dataDir, 'mail');
    const mailTo = (email: string) =>
      (existsSync(mailDir) ? readdirSync(mailDir).sort() : [])
        .map((f) => JSON.parse(readFileSync(join(mailDir, f), 'utf8')) as { to: string; subject: string; text: string; html: string })
        .filter((m) => m.to === email)
        .at(-1);

    const invited = `${uniqueId('inv')}@brightsmile.example`;
    const invite = await t.app.inject({ method: 'POST', url: `/api/clients/${branded}/invites`, headers: bearer(owner.accessToken), payload: { email: invited, role: 'client_viewer' } });
    expect(invite.statusCode).toBe(202);
    const mail = mailTo(invited);
    expect(mail?.subject).toBe("You're invited to Bright Smile's receptionist dashboard");
    expect(mail?.text).toMatch(new RegExp(`^Accept the invitation: http://${host.replaceAll('.', '\\.')}:3000/accept-invite#token=[\\w.-]+$`, 'm'));
    expect(mail?.text).toContain('— Bright Smile');
    expect(mail?.html).toContain(`<img src="${logo}" alt="Bright Smile"`);
    // Gold button, dark text on it (white would be 1.4:1).
    expect(mail?.html).toContain('background:#ffd700;color:#0f172a');
    expect(`${mail?.text}${mail?.html}`).not.toContain('Bright Smile Dental LLC');

    expect((await t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email: owner.email } })).statusCode).toBe(202);
    const reset = mailTo(owner.email);
    expect(reset?.subject).toBe('Reset your Bright Smile dashboard password');
    expect(reset?.text).toContain(`http://${host}:3000/reset-password#token=`);

    // Another client without branding: its name, the platform's colors and host.
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email: otherOwner.email } })).statusCode).toBe(202);
    const plainReset = mailTo(otherOwner.email);
    expect(plainReset?.subject).toBe('Reset your Plain Plumbing dashboard password');
    expect(plainReset?.text).toContain('http://localhost:3000/reset-password#token=');
    expect(plainReset?.html).toContain('background:#1d4ed8;color:#ffffff');
    expect(plainReset?.html).not.toContain('<img');

    expect((await t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email: operator.email } })).statusCode).toBe(202);
    expect(mailTo(operator.email)?.subject).toBe('Reset your XLNC Perception dashboard password');
  });
});
