/**
 * The alerts and failed-jobs API: platform admins only (401 without a token, 403 for client users
 * even about their own client), another client's alert is 404 under this client's URL, bad input
 * is 400, and /metrics shows xlnc_alerts_open only for configured clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { evaluateClient, listClientAlerts } from './alerts.service.ts';
import type { Detector } from './detectors.ts';

const firing: Detector = {
  kind: 'dead_jobs',
  needsConfig: false,
  evaluate: async () => ({ status: 'firing', severity: 'warning', summary: '2 job(s) gave up', action: 'retry them', details: { count: 2 } }),
};

describe('alerts API: who may see and change alerts', () => {
  let t: TestApp;
  const a = uniqueId('ra');
  const b = uniqueId('rb');
  const ghost = uniqueId('rghost');
  let admin: TestUser;
  let clientAdminA: TestUser;
  let viewerA: TestUser;
  let alertA: string;
  let alertB: string;

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    t = await createTestApp({ clientsDir: dir });
    admin = await loginAs(t, 'platform_admin');
    clientAdminA = await loginAs(t, 'client_admin', a);
    viewerA = await loginAs(t, 'client_viewer', a);
    const deps = { tenancy: t.deps.tenancy, queue: t.deps.queue, health: t.deps.health, logger: t.deps.logger, policy: t.deps.alerting.policy };
    const now = new Date();
    await evaluateClient(deps, t.deps.registry.get(a)!, now, [firing]);
    await evaluateClient(deps, t.deps.registry.get(b)!, now, [firing]);
    // A row of a client no longer configured (removed since): never a metrics series.
    await evaluateClient(deps, { ...t.deps.registry.get(a)!, id: ghost }, now, [firing]);
    alertA = (await listClientAlerts(t.deps.tenancy, a, 'all', 5))[0]!.id;
    alertB = (await listClientAlerts(t.deps.tenancy, b, 'all', 5))[0]!.id;
  }, 60_000);
  afterAll(() => t?.close());

  // Acknowledge and resolve take an empty JSON object.
  const call = (method: 'GET' | 'POST', url: string, user?: TestUser, payload: unknown = method === 'POST' ? {} : undefined) =>
    t.app.inject({ method, url, ...(user ? { headers: bearer(user.accessToken) } : {}), ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('401 without a token, 403 for client users (their own client included), 200 for a platform admin', async () => {
    const urls: ['GET' | 'POST', string][] = [
      ['GET', '/api/admin/alerts'],
      ['GET', `/api/admin/clients/${a}/alerts`],
      ['GET', `/api/admin/clients/${a}/alerts/${alertA}`],
      ['POST', `/api/admin/clients/${a}/alerts/${alertA}/acknowledge`],
      ['POST', `/api/admin/clients/${a}/alerts/${alertA}/resolve`],
      ['GET', '/api/admin/jobs/failed'],
      ['POST', '/api/admin/jobs/failed/retry'],
    ];
    for (const [method, url] of urls) {
      const none = await call(method, url);
      expect(none.statusCode, `${method} ${url}`).toBe(401);
      expect(none.json()).toMatchObject({ error: { code: 'unauthorized' } });
      for (const user of [clientAdminA, viewerA]) {
        const res = await call(method, url, user, method === 'POST' ? {} : undefined);
        expect(res.statusCode, `${user.role} ${method} ${url}`).toBe(403);
        expect(res.json().error.request_id).toBeTruthy();
      }
    }
    // Nothing changed on the way.
    expect((await listClientAlerts(t.deps.tenancy, a, 'all', 5))[0]).toMatchObject({ state: 'open' });

    const all = await call('GET', '/api/admin/alerts', admin);
    expect(all.statusCode).toBe(200);
    const ids = all.json().alerts.map((x: { id: string }) => x.id);
    expect(ids).toEqual(expect.arrayContaining([alertA, alertB]));
    expect(all.json().counts).toEqual(expect.arrayContaining([{ client_id: a, kind: 'dead_jobs', count: 1 }]));
    const own = await call('GET', `/api/admin/clients/${a}/alerts?state=active`, admin);
    expect(own.json().alerts).toHaveLength(1);
    expect(own.json().alerts[0]).toMatchObject({ id: alertA, client_id: a, kind: 'dead_jobs', label: 'Jobs gave up', severity: 'warning', state: 'open', summary: '2 job(s) gave up', action: 'retry them' });
  });

  it("404: an unknown client, and another client's alert under this client's URL (never changed)", async () => {
    expect((await call('GET', `/api/admin/clients/nope-${a}/alerts`, admin)).statusCode).toBe(404);
    expect((await call('GET', `/api/admin/clients/${a}/alerts/${alertB}`, admin)).statusCode).toBe(404);
    const ack = await call('POST', `/api/admin/clients/${a}/alerts/${alertB}/acknowledge`, admin);
    expect(ack.statusCode).toBe(404);
    expect(ack.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await call('POST', `/api/admin/clients/${a}/alerts/${alertB}/resolve`, admin)).statusCode).toBe(404);
    expect((await listClientAlerts(t.deps.tenancy, b, 'all', 5))[0]).toMatchObject({ id: alertB, state: 'open' });
    expect((await call('GET', '/api/admin/jobs/failed?client_id=nope-x', admin)).statusCode).toBe(404);
  });

  it('400 on bad input, in the one envelope', async () => {
    for (const [method, url, body] of [
      ['GET', `/api/admin/clients/${a}/alerts/not-a-uuid`, undefined],
      ['GET', `/api/admin/clients/${a}/alerts?state=bogus`, undefined],
      ['GET', `/api/admin/clients/${a}/alerts?limit=0`, undefined],
      ['POST', '/api/admin/jobs/failed/retry', { ids: ['x'] }],
      ['POST', '/api/admin/jobs/failed/retry', { ids: [alertA], all: true }],
      ['POST', '/api/admin/jobs/failed/retry', {}],
    ] as const) {
      const res = await call(method, url, admin, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
    }
  });

  it('acknowledge, then resolve (the recovery notice is enqueued once); acknowledging a resolved alert is 409', async () => {
    const ack = await call('POST', `/api/admin/clients/${a}/alerts/${alertA}/acknowledge`, admin);
    expect(ack.statusCode).toBe(200);
    expect(ack.json().alert).toMatchObject({ state: 'acknowledged', acknowledged_by: admin.id });
    const resolved = await call('POST', `/api/admin/clients/${a}/alerts/${alertA}/resolve`, admin);
    expect(resolved.json().alert).toMatchObject({ state: 'resolved', resolved_by: admin.id });
    expect((await call('POST', `/api/admin/clients/${a}/alerts/${alertA}/resolve`, admin)).json().alert.state).toBe('resolved');
    const again = await call('POST', `/api/admin/clients/${a}/alerts/${alertA}/acknowledge`, admin);
    expect(again.statusCode).toBe(409);
    const notices = (await t.deps.queue.depth()).filter((row) => row.queue === 'alert.notice' && row.client_id === a).reduce((n, row) => n + row.count, 0);
    // opened + resolved, on three channels each; resolving twice enqueued nothing more.
    expect(notices).toBe(6);
  });

  it('/metrics: xlnc_alerts_open per configured client and kind, none for a removed client', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain(`xlnc_alerts_open{client_id="${b}",kind="dead_jobs"} 1`);
    expect(body).not.toContain(`xlnc_alerts_open{client_id="${ghost}"`);
    expect(body).not.toContain(`xlnc_alerts_open{client_id="${a}"`);
  });
});
