import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expiredTokenFor, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { sqlRows } from '../platform/db/database.ts';
import { auditLog, clientConfigs } from '../platform/db/schema.ts';
import { isSealedSecret } from '../platform/secrets.ts';

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const secretsOf = (id: string) => ({
  retell: `key_live_${id.replaceAll('-', '_')}_retell_9911`,
  sms: `t180_${id}_authkey_7722`,
  email: `SG.${id}.sendgrid_5533`,
});

/** A database client body with three real secrets. */
function dbClientBody(id: string): Record<string, unknown> {
  const secrets = secretsOf(id);
  return {
    ...testClientConfig(id, { environment: 'live' }),
    retell: { api_key: secrets.retell, agent_ids: [`agent_${id.replaceAll('-', '')}`] },
    sms: { provider: 'text180', auth_key: secrets.sms, account_id: 'acc-1', short_code: '55555', keyword: 'TAX' },
    email: { provider: 'sendgrid', api_key: secrets.email, from: 'Office <office@example.com>' },
  };
}

describe('/api/admin', () => {
  let t: TestApp;
  let admin: TestUser;
  let clientAdmin: TestUser;
  let viewer: TestUser;
  const fileClient = uniqueId('adm-file');
  /** Every response body of this suite, scanned for secret values at the end. */
  const bodies: string[] = [];
  const allSecrets: string[] = [];

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.inject({ method, url, headers: { ...bearer(admin.accessToken), ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    bodies.push(res.body);
    return res;
  };
  const createDbClient = async (id: string) => {
    allSecrets.push(...Object.values(secretsOf(id)));
    const res = await call('POST', '/api/admin/clients', dbClientBody(id));
    expect(res.statusCode, res.body).toBe(201);
    return res;
  };

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(fileClient));
    allSecrets.push(`key_test_${fileClient.replaceAll('-', '_')}_secret`);
    t = await createTestApp({ clientsDir: dir });
    admin = await loginAs(t, 'platform_admin');
    clientAdmin = await loginAs(t, 'client_admin', fileClient);
    viewer = await loginAs(t, 'client_viewer', fileClient);
  });

  afterAll(async () => {
    for (const body of bodies) for (const secret of allSecrets) expect(body).not.toContain(secret);
    await t.close();
  });

  it('refuses every route without a token (401), with an expired one (401) and to client roles (403)', async () => {
    const routes: [string, string][] = [
      ['GET', '/api/admin/clients'],
      ['POST', '/api/admin/clients'],
      ['GET', `/api/admin/clients/${fileClient}`],
      ['PATCH', `/api/admin/clients/${fileClient}`],
      ['DELETE', `/api/admin/clients/${fileClient}`],
      ['GET', '/api/admin/users'],
      ['POST', '/api/admin/users'],
      ['GET', `/api/admin/users/${admin.id}`],
      ['PATCH', `/api/admin/users/${admin.id}`],
      ['GET', '/api/admin/audit'],
    ];
    const callers: [string, Record<string, string>, number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['expired token', bearer(expiredTokenFor(t, admin.auth)), 401, 'unauthorized'],
      ['client_admin', bearer(clientAdmin.accessToken), 403, 'forbidden'],
      ['client_viewer', bearer(viewer.accessToken), 403, 'forbidden'],
    ];
    for (const [method, url] of routes) {
      for (const [who, headers, status, code] of callers) {
        const res = await t.app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' || method === 'PATCH' ? { payload: { bad: 'body' } } : {}) });
        expect(res.statusCode, `${who} ${method} ${url}`).toBe(status);
        expect(res.json().error.code, `${who} ${method} ${url}`).toBe(code);
      }
    }
  });

  it('creates a database client whose webhook works at once, with secrets sealed at rest and masked in answers', async () => {
    const id = uniqueId('adm-db');
    const created = await createDbClient(id);
    const body = created.json();
    expect(created.headers.etag).toBe('"1"');
    expect(body).toMatchObject({ id, source: 'db', status: 'active', version: 1, webhook_url: `http://localhost:3000/api/webhooks/retell/${id}` });
    expect(body.config.retell.api_key).toBe('••••9911');
    expect(body.config.sms.auth_key).toBe('••••7722');
    expect(body.config.email.api_key).toBe('••••5533');

    const hook = await postSigned(t.app, id, callEvent(id, 'call_started', 'call_db_1'), { key: secretsOf(id).retell });
    expect(hook.statusCode).toBe(204);
    const wrongKey = await postSigned(t.app, id, callEvent(id, 'call_started', 'call_db_2'));
    expect(wrongKey.statusCode).toBe(401);

    const [row] = await t.deps.tenancy.withPlatform((tx) => tx.select().from(clientConfigs).where(eq(clientConfigs.id, id)));
    const stored = row?.config as { retell: { api_key: string }; sms: { auth_key: string } };
    expect(isSealedSecret(stored.retell.api_key)).toBe(true);
    expect(isSealedSecret(stored.sms.auth_key)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secretsOf(id).retell);
    // Resolved secrets are scrubbed from logs like file clients' ones.
    expect(t.deps.scrubber.scrub(`x ${secretsOf(id).sms} y`)).toBe('x [REDACTED] y');

    const list = await call('GET', '/api/admin/clients');
    const summaries = list.json().clients as { id: string; source: string; status: string; health: { ok: boolean } }[];
    expect(summaries.find((c) => c.id === id)).toMatchObject({ source: 'db', status: 'active', health: { ok: true } });
    expect(summaries.find((c) => c.id === fileClient)).toMatchObject({ source: 'file', status: 'active', version: null });

    // What startup does: load every stored client into the registry.
    t.deps.registry.removeExternal(id);
    expect(t.deps.registry.get(id)).toBeUndefined();
    await t.deps.dbClients.loadAll();
    expect(t.deps.registry.get(id)).toMatchObject({ source: 'db', status: 'active' });
  });

  it('rejects invalid configs, duplicate ids, env:/enc: secrets and ids owned by a file', async () => {
    const id = uniqueId('adm-val');
    const invalid = await call('POST', '/api/admin/clients', { ...dbClientBody(id), timezone: 'Mars/Base', colour: 'red' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.message).toContain('$.timezone');
    expect(invalid.json().error.message).toContain('colour');

    const envRef = await call('POST', '/api/admin/clients', { ...dbClientBody(id), retell: { api_key: 'env:JWT_SECRET', agent_ids: ['a'] } });
    expect(envRef.statusCode).toBe(400);
    expect(envRef.json().error.message).toContain('$.retell.api_key');

    const masked = await call('POST', '/api/admin/clients', { ...dbClientBody(id), retell: { api_key: '••••1234', agent_ids: ['a'] } });
    expect(masked.statusCode).toBe(400);

    await createDbClient(id);
    const again = await call('POST', '/api/admin/clients', dbClientBody(id));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');

    const owned = await call('POST', '/api/admin/clients', dbClientBody(fileClient));
    expect(owned.statusCode).toBe(409);
    expect(owned.json().error.code).toBe('client_managed_by_file');
    const patchFile = await call('PATCH', `/api/admin/clients/${fileClient}`, { name: 'x', version: 1 });
    expect(patchFile.json().error.code).toBe('client_managed_by_file');
    const deleteFile = await call('DELETE', `/api/admin/clients/${fileClient}`);
    expect(deleteFile.json().error.code).toBe('client_managed_by_file');

    const fileDetail = await call('GET', `/api/admin/clients/${fileClient}`);
    expect(fileDetail.statusCode).toBe(200);
    expect(fileDetail.json()).toMatchObject({ source: 'file', version: null, config: { retell: { api_key: expect.stringMatching(/^••••/) } } });
    expect((await call('GET', '/api/admin/clients/no-such-client')).statusCode).toBe(404);
  });

  it('PATCH merges with optimistic concurrency: stale version 409, masked secrets kept, new secrets sealed', async () => {
    const id = uniqueId('adm-patch');
    const secrets = secretsOf(id);
    await createDbClient(id);

    const renamed = await call('PATCH', `/api/admin/clients/${id}`, { name: 'Renamed Office', limits: { webhooks_per_minute: 50 } }, { 'if-match': '"1"' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.headers.etag).toBe('"2"');
    expect(renamed.json()).toMatchObject({ version: 2, name: 'Renamed Office', config: { limits: { webhooks_per_minute: 50 }, timezone: 'America/New_York' } });

    const stale = await call('PATCH', `/api/admin/clients/${id}`, { name: 'Lost update' }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('conflict');
    const staleBody = await call('PATCH', `/api/admin/clients/${id}`, { name: 'Lost update', version: 1 });
    expect(staleBody.statusCode).toBe(409);
    const noVersion = await call('PATCH', `/api/admin/clients/${id}`, { name: 'No version' });
    expect(noVersion.statusCode).toBe(400);

    // Sending back the masked view keeps every stored secret.
    const view = (await call('GET', `/api/admin/clients/${id}`)).json();
    const roundTrip = await call('PATCH', `/api/admin/clients/${id}`, { ...view.config, name: 'Round Trip', version: 2 }, { 'content-type': 'application/merge-patch+json' });
    expect(roundTrip.statusCode, roundTrip.body).toBe(200);
    expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_p1'), { key: secrets.retell })).statusCode).toBe(204);

    // A new secret replaces the old one at once; null removes a block (merge patch).
    const newKey = `key_live_rotated_${id.replaceAll('-', '_')}_4455`;
    allSecrets.push(newKey);
    const rekeyed = await call('PATCH', `/api/admin/clients/${id}`, { retell: { api_key: newKey }, email: null, version: 3 });
    expect(rekeyed.statusCode, rekeyed.body).toBe(200);
    expect(rekeyed.json().config.retell.api_key).toBe('••••4455');
    expect(rekeyed.json().config.email).toBeUndefined();
    expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_p2'), { key: secrets.retell })).statusCode).toBe(401);
    expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_p3'), { key: newKey })).statusCode).toBe(204);

    const badMerge = await call('PATCH', `/api/admin/clients/${id}`, { client_id: 'another-id', version: 4 });
    expect(badMerge.statusCode).toBe(400);
    const invalid = await call('PATCH', `/api/admin/clients/${id}`, { calendar: { provider: 'zoho' }, version: 4 });
    expect(invalid.statusCode).toBe(400);
  });

  it('DELETE disables the client (webhooks 403) and keeps its data', async () => {
    const id = uniqueId('adm-del');
    await createDbClient(id);
    expect((await postSigned(t.app, id, callEvent(id, 'call_started', 'call_d1'), { key: secretsOf(id).retell })).statusCode).toBe(204);
    const disabled = await call('DELETE', `/api/admin/clients/${id}`);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ status: 'disabled', version: 2 });
    const hook = await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_d1'), { key: secretsOf(id).retell });
    expect(hook.statusCode).toBe(403);
    expect(hook.json().error.code).toBe('client_disabled');
    const kept = await t.deps.tenancy.withTenant(id, (tx) => sqlRows<{ n: number }>(tx, sql`select count(*)::int as n from calls`));
    expect(kept[0]?.n).toBe(1);
    // Re-enabling is a PATCH.
    const enabled = await call('PATCH', `/api/admin/clients/${id}`, { status: 'active' }, { 'if-match': 'W/"2"' });
    expect(enabled.json().status).toBe('active');
  });

  it('writes an audit row for every change, with secrets masked, filterable and paginated', async () => {
    const id = uniqueId('adm-aud');
    await createDbClient(id);
    const newKey = `key_live_audit_${id.replaceAll('-', '_')}_6677`;
    allSecrets.push(newKey);
    await call('PATCH', `/api/admin/clients/${id}`, { name: 'Audited', retell: { api_key: newKey }, version: 1 }, { 'x-request-id': `req-${id}` });
    await call('DELETE', `/api/admin/clients/${id}`);

    const rows = await t.deps.tenancy.withPlatform((tx) => tx.select().from(auditLog).where(eq(auditLog.clientId, id)));
    expect(rows.map((r) => r.action).sort()).toEqual(['client.create', 'client.disable', 'client.update']);
    const stored = JSON.stringify(rows);
    for (const secret of [...Object.values(secretsOf(id)), newKey]) expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/enc:v1:/);
    const update = rows.find((r) => r.action === 'client.update');
    expect(update).toMatchObject({ actorUserId: admin.id, actor: admin.email, requestId: `req-${id}` });
    expect((update?.diff as { changes: unknown[] }).changes).toEqual(
      expect.arrayContaining([
        { path: '$.name', from: `Test Client ${id}`, to: 'Audited' },
        { path: '$.retell.api_key', from: '••••9911', to: '••••6677' },
      ]),
    );

    const page1 = await call('GET', `/api/admin/audit?client_id=${id}&limit=2`);
    expect(page1.statusCode).toBe(200);
    const first = page1.json();
    expect(first.items.map((i: { action: string }) => i.action)).toEqual(['client.disable', 'client.update']);
    expect(first.next_cursor).toBeTruthy();
    const page2 = (await call('GET', `/api/admin/audit?client_id=${id}&limit=2&cursor=${first.next_cursor}`)).json();
    expect(page2.items.map((i: { action: string }) => i.action)).toEqual(['client.create']);
    expect(page2.next_cursor).toBeNull();

    const byAction = (await call('GET', `/api/admin/audit?client_id=${id}&action=client.update&actor=${admin.id}`)).json();
    expect(byAction.items).toHaveLength(1);
    const future = (await call('GET', `/api/admin/audit?client_id=${id}&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json();
    expect(future.items).toHaveLength(0);
    expect((await call('GET', '/api/admin/audit?action=drop.tables')).statusCode).toBe(400);
  });

  it('manages users: create for a client, list, change role, disable (ending sessions); never a password hash', async () => {
    const email = `${uniqueId('staff')}@Example.test`;
    const created = await call('POST', '/api/admin/users', { email, password: 'a-long-enough-password', role: 'client_viewer', client_id: fileClient });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json().user;
    expect(user).toMatchObject({ email: email.toLowerCase(), role: 'client_viewer', client_id: fileClient, disabled: false });

    expect((await call('POST', '/api/admin/users', { email: email.toUpperCase(), password: 'a-long-enough-password', role: 'client_viewer', client_id: fileClient })).statusCode).toBe(409);
    expect((await call('POST', '/api/admin/users', { email: `x${email}`, password: 'short', role: 'client_viewer', client_id: fileClient })).statusCode).toBe(400);
    expect((await call('POST', '/api/admin/users', { email: `y${email}`, password: 'a-long-enough-password', role: 'client_admin' })).statusCode).toBe(400);
    expect((await call('POST', '/api/admin/users', { email: `z${email}`, password: 'a-long-enough-password', role: 'client_admin', client_id: 'no-such-client' })).statusCode).toBe(400);
    expect((await call('POST', '/api/admin/users', { email: `w${email}`, password: 'a-long-enough-password', role: 'platform_admin', client_id: fileClient })).statusCode).toBe(400);

    const signIn = () => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'a-long-enough-password' } });
    const me = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${accessToken}` } });
    const login = await signIn();
    expect(login.statusCode).toBe(200);
    const refreshToken = login.json().refresh_token as string;
    expect((await me(login.json().access_token)).statusCode).toBe(200);
    // Another user's session is not touched by what follows.
    const bystander = await loginAs(t, 'client_viewer', fileClient);
    const bystanderLogin = (await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: bystander.email, password: bystander.password } })).json();

    const promoted = await call('PATCH', `/api/admin/users/${user.id}`, { role: 'client_admin' });
    expect(promoted.json().user.role).toBe('client_admin');
    // A change of role ends existing sessions: the refresh token and, at once, the access token.
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: refreshToken } })).statusCode).toBe(401);
    const ended = await me(login.json().access_token);
    expect(ended.statusCode).toBe(401);
    expect(ended.headers['www-authenticate']).toContain('revoked');
    expect((await me(bystanderLogin.access_token)).statusCode).toBe(200);
    // Signing in again works (tokens carry whole seconds: a new one from the next second on).
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const again = await signIn();
    expect(again.statusCode).toBe(200);
    expect((await me(again.json().access_token)).statusCode).toBe(200);

    const disabled = await call('PATCH', `/api/admin/users/${user.id}`, { disabled: true });
    expect(disabled.json().user.disabled).toBe(true);
    expect((await signIn()).statusCode).toBe(401);
    // Disabling ends the session already open, not only future ones.
    expect((await me(again.json().access_token)).statusCode).toBe(401);

    const listed = await call('GET', `/api/admin/users?client_id=${fileClient}`);
    expect(listed.json().users.map((u: { id: string }) => u.id)).toContain(user.id);
    expect(listed.body).not.toMatch(/scrypt|password_hash/);

    const self = await call('PATCH', `/api/admin/users/${admin.id}`, { disabled: true });
    expect(self.statusCode).toBe(409);

    const audit = (await call('GET', `/api/admin/audit?actor=${encodeURIComponent(admin.email)}&action=user.update`)).json();
    expect(audit.items.filter((i: { target_id: string }) => i.target_id === user.id)).toHaveLength(2);
  });
});

describe.runIf(TEST_DATABASE_URL && TEST_REDIS_URL)('database clients across instances', () => {
  it('a client created on one instance serves webhooks on another within 2 s', async () => {
    const a = await createTestApp();
    const b = await createTestApp();
    try {
      const admin = await loginAs(a, 'platform_admin');
      const id = uniqueId('adm-multi');
      const res = await a.app.inject({ method: 'POST', url: '/api/admin/clients', headers: bearer(admin.accessToken), payload: dbClientBody(id) });
      expect(res.statusCode).toBe(201);
      await until(() => b.deps.registry.get(id), 2000);
      expect((await postSigned(b.app, id, callEvent(id, 'call_started', 'call_m1'), { key: secretsOf(id).retell })).statusCode).toBe(204);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
