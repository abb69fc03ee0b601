import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs } from '../test/helpers/auth.ts';
import { createTestApp, testClientConfig, uniqueId, writeClientFile, tempDir, type TestApp } from '../test/helpers/test-app.ts';

describe('operations endpoints and error envelope', () => {
  let t: TestApp;
  const good = uniqueId('good');
  const broken = uniqueId('broken');

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(good));
    writeClientFile(dir, { ...testClientConfig(broken), timezone: 'Mars/Olympus', retell: { agent_ids: [] } });
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('GET /health answers 200 with a request id header', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('GET /ready tells anyone ready or not, and names no client, file or query', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: { ok: true }, migrations: { ok: true }, ...(t.deps.redis ? { redis: { ok: true } } : {}) } });
    expect(res.body).not.toContain(good);
    expect(res.body).not.toContain(broken);
    const viewer = await loginAs(t, 'client_admin', good);
    const asClient = await t.app.inject({ method: 'GET', url: '/ready', headers: bearer(viewer.accessToken) });
    expect(asClient.body).not.toContain(good);
    const forged = await t.app.inject({ method: 'GET', url: '/ready', headers: bearer('not.a.token') });
    expect(forged.statusCode).toBe(200);
    expect(forged.body).not.toContain(broken);
  });

  it('GET /ready with a platform admin token checks the database and migrations and lists clients, invalid ones with reasons', async () => {
    const admin = await loginAs(t, 'platform_admin');
    const res = await t.app.inject({ method: 'GET', url: '/ready', headers: bearer(admin.accessToken) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ready');
    expect(body.checks.database.ok).toBe(true);
    expect(body.checks.migrations.ok).toBe(true);
    expect(body.clients.active).toContain(good);
    const invalid = body.clients.invalid.find((c: { id: string }) => c.id === broken);
    expect(invalid).toBeDefined();
    const paths = invalid.issues.map((i: { path: string }) => i.path);
    expect(paths.some((p: string) => p.includes('timezone'))).toBe(true);
    expect(invalid.issues[0].file).toContain(`${broken}.json`);
  });

  it('GET /metrics exposes client status gauges, invalid clients and request durations', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    // At least: with a shared PostgreSQL, other tests' database-backed clients are loaded too.
    expect(Number(/xlnc_clients\{status="active"\} (\d+)/.exec(res.body)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/xlnc_clients\{status="invalid"\} (\d+)/.exec(res.body)?.[1])).toBeGreaterThanOrEqual(1);
    expect(res.body).toContain(`xlnc_client_config_invalid{client_id="${broken}"} 1`);
    expect(res.body).toMatch(/xlnc_http_request_duration_seconds_count\{route="\/health",method="GET",status="200"/);
  });

  it('unknown routes answer the one error envelope', async () => {
    // A GET outside /api is a dashboard page (src/dashboard); every other unknown route is the API's.
    const res = await t.app.inject({ method: 'GET', url: '/api/nope?x=1', headers: { 'x-request-id': 'req-abc' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /api/nope', request_id: 'req-abc' } });
    const post = await t.app.inject({ method: 'POST', url: '/nope', headers: { 'x-request-id': 'req-def' } });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual({ error: { code: 'not_found', message: 'No route for POST /nope', request_id: 'req-def' } });
  });

  it('mirrors the registry into the clients table', async () => {
    const { clients } = await import('../src/platform/db/schema.ts');
    const rows = await t.deps.tenancy.withPlatform((tx) => tx.select().from(clients));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(good)).toMatchObject({ status: 'active', source: 'file' });
    expect(byId.get(broken)).toMatchObject({ status: 'invalid', source: 'file' });
    expect(byId.get(good)?.configHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
