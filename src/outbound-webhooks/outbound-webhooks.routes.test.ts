/**
 * The outbound webhook API: what a subscription looks like through it, and who may see or change
 * whose subscriptions and deliveries (no token 401, wrong role 403, another client 404).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { queryAudit } from '../admin/audit.service.ts';
import { insertDelivery, updateDelivery } from './outbound-webhooks.repo.ts';

describe('outbound webhook API', () => {
  let t: TestApp;
  const a = uniqueId('owr-a');
  const b = uniqueId('owr-b');
  const tokens: Record<string, string> = {};
  const emails: Record<string, string> = {};
  let subA = '';
  let secretA = '';
  let deliveryA = '';
  const bodies: string[] = [];

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who?: string, payload?: unknown) => {
    const res = await t.app.inject({
      method,
      url,
      headers: who ? { authorization: `Bearer ${tokens[who]}` } : {},
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
    bodies.push(res.body);
    return res;
  };

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    t = await createTestApp({ clientsDir: dir });
    for (const [who, role, client] of [
      ['viewerA', 'client_viewer', a],
      ['adminA', 'client_admin', a],
      ['adminB', 'client_admin', b],
      ['platform', 'platform_admin', null],
    ] as const) {
      const user = await loginAs(t, role, client);
      tokens[who] = user.accessToken;
      emails[who] = user.email;
    }
    const created = await call('POST', `/api/clients/${a}/webhook-subscriptions`, 'adminA', {
      url: 'https://hooks.example.com/xlnc',
      event_types: ['appointment.booked', 'call.completed'],
      description: 'CRM',
    });
    expect(created.statusCode).toBe(201);
    subA = created.json().id;
    secretA = created.json().secret;
    const delivery = await t.deps.tenancy.withTenant(a, (tx) =>
      insertDelivery(tx, a, { subscriptionId: subA, eventId: randomUUID(), eventType: 'call.completed', eventSeq: 1, ordered: false }),
    );
    deliveryA = delivery!.id;
  });
  afterAll(() => t.close());

  it('creates with a generated whsec_ secret shown once, sealed at rest, never listed', async () => {
    expect(secretA).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secretA.slice(6), 'base64')).toHaveLength(32);
    const list = await call('GET', `/api/clients/${a}/webhook-subscriptions`, 'viewerA');
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toMatchObject([{ id: subA, url: 'https://hooks.example.com/xlnc', status: 'active', event_types: ['appointment.booked', 'call.completed'] }]);
    expect(list.body).not.toContain(secretA);
    expect(list.json().items[0].last_delivery).toMatchObject({ id: deliveryA, status: 'pending', last_status_code: null });
    expect(list.json().items[0].secret_hint).toBe(`••••${secretA.slice(-4)}`);
    const stored = await t.deps.tenancy.withTenant(a, (tx) => tx.execute(`select secret from webhook_subscriptions where id = '${subA}'`));
    const sealed = (stored as { rows: { secret: string }[] }).rows[0]!.secret;
    expect(sealed).toMatch(/^enc:v1:/);
    expect(t.deps.sealer.open(sealed)).toBe(secretA);
  });

  it('accepts a whsec_ secret the client brings, and refuses bad input with a 400 envelope', async () => {
    const own = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    const res = await call('POST', `/api/clients/${a}/webhook-subscriptions`, 'adminA', { url: 'https://h.example.com/own', event_types: ['call.started'], secret: own });
    expect(res.statusCode).toBe(201);
    expect(res.json().secret).toBe(own);
    for (const [body, field] of [
      [{ url: 'http://h.example.com/', event_types: ['call.started'] }, /url: must be an https/],
      [{ url: 'https://127.0.0.1/', event_types: ['call.started'] }, /url: points at loopback/],
      [{ url: 'https://169.254.169.254/latest', event_types: ['call.started'] }, /metadata/],
      [{ url: 'https://h.example.com/', event_types: ['call.nope'] }, /event_types/],
      [{ url: 'https://h.example.com/', event_types: [] }, /event_types/],
      [{ url: 'https://h.example.com/', event_types: ['call.started'], secret: 'whsec_short' }, /secret/],
      [{ url: 'https://h.example.com/', event_types: ['call.started'], extra: 1 }, /./],
    ] as const) {
      const bad = await call('POST', `/api/clients/${a}/webhook-subscriptions`, 'adminA', body);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('invalid_payload');
      expect(bad.json().error.message).toMatch(field);
      expect(bad.json().error.request_id).toBeTruthy();
    }
    await call('DELETE', `/api/clients/${a}/webhook-subscriptions/${res.json().id}`, 'adminA');
  });

  it('rotates: a new secret shown once, the old one valid for the window; patch and the event type catalogue', async () => {
    const rotated = await call('POST', `/api/clients/${a}/webhook-subscriptions/${subA}/rotate-secret`, 'adminA', { previous_valid_hours: 12 });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).not.toBe(secretA);
    expect(rotated.json().previous_secret_valid_until).not.toBeNull();
    const patched = await call('PATCH', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'adminA', { event_types: ['appointment.booked'], description: null });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ event_types: ['appointment.booked'], description: null });
    const types = await call('GET', `/api/clients/${a}/webhook-event-types`, 'viewerA');
    expect(types.json().items).toContainEqual({ type: 'appointment.booked', ordered: true });
    expect(types.json().items).toContainEqual({ type: 'call.completed', ordered: false });
  });

  it('the delivery log lists and shows a delivery; replay of an open delivery is a 409', async () => {
    const page = await call('GET', `/api/clients/${a}/webhook-deliveries?subscription_id=${subA}`, 'viewerA');
    expect(page.statusCode).toBe(200);
    expect(page.json().items).toMatchObject([{ id: deliveryA, status: 'pending', attempts: 0, webhook_id: `msg_${deliveryA.replaceAll('-', '')}` }]);
    const one = await call('GET', `/api/clients/${a}/webhook-deliveries/${deliveryA}`, 'viewerA');
    expect(one.json().attempts_log).toEqual([]);
    const replay = await call('POST', `/api/clients/${a}/webhook-deliveries/${deliveryA}/replay`, 'adminA');
    expect(replay.statusCode).toBe(409);
    expect((await call('GET', `/api/clients/${a}/webhook-deliveries?status=bogus`, 'viewerA')).statusCode).toBe(400);
  });

  const reads = () => [
    `/api/clients/${a}/webhook-subscriptions`,
    `/api/clients/${a}/webhook-subscriptions/${subA}`,
    `/api/clients/${a}/webhook-deliveries`,
    `/api/clients/${a}/webhook-deliveries/${deliveryA}`,
    `/api/clients/${a}/webhook-event-types`,
  ];
  const writes = (): ['POST' | 'PATCH' | 'DELETE', string, unknown][] => [
    ['POST', `/api/clients/${a}/webhook-subscriptions`, { url: 'https://x.example.com/', event_types: ['call.started'] }],
    ['PATCH', `/api/clients/${a}/webhook-subscriptions/${subA}`, { description: 'hijack' }],
    ['POST', `/api/clients/${a}/webhook-subscriptions/${subA}/rotate-secret`, {}],
    ['DELETE', `/api/clients/${a}/webhook-subscriptions/${subA}`, undefined],
    ['POST', `/api/clients/${a}/webhook-deliveries/${deliveryA}/replay`, undefined],
  ];

  it('no token: 401 on every route', async () => {
    for (const url of reads()) expect((await call('GET', url)).statusCode).toBe(401);
    for (const [method, url, body] of writes()) expect((await call(method, url, undefined, body)).statusCode).toBe(401);
    expect((await call('GET', `/api/admin/clients/${a}/webhook-subscriptions`)).statusCode).toBe(401);
  });

  it("a viewer reads but may not change: 403, and nothing changed", async () => {
    for (const url of reads()) expect((await call('GET', url, 'viewerA')).statusCode).toBe(200);
    for (const [method, url, body] of writes()) {
      const res = await call(method, url, 'viewerA', body);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
    expect((await call('GET', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'viewerA')).json().description).toBeNull();
  });

  it("another client's admin: 404 on every route, the same as a client that does not exist, and nothing changed", async () => {
    for (const url of reads()) {
      const res = await call('GET', url, 'adminB');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    for (const [method, url, body] of writes()) expect((await call(method, url, 'adminB', body)).statusCode).toBe(404);
    // B naming its own client with A's ids finds nothing either (RLS and the client filter).
    expect((await call('GET', `/api/clients/${b}/webhook-subscriptions/${subA}`, 'adminB')).statusCode).toBe(404);
    expect((await call('GET', `/api/clients/${b}/webhook-deliveries/${deliveryA}`, 'adminB')).statusCode).toBe(404);
    expect((await call('PATCH', `/api/clients/${b}/webhook-subscriptions/${subA}`, 'adminB', { description: 'x' })).statusCode).toBe(404);
    expect((await call('GET', `/api/clients/${b}/webhook-subscriptions`, 'adminB')).json().items).toEqual([]);
    expect((await call('GET', `/api/clients/${b}/webhook-deliveries`, 'adminB')).json().items).toEqual([]);
    expect((await call('GET', `/api/clients/no-such-client/webhook-subscriptions`, 'adminB')).statusCode).toBe(404);
    expect((await call('GET', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'adminA')).json().description).toBeNull();
  });

  it('admin API: platform admins only (403 for client admins), any client', async () => {
    const denied = await call('GET', `/api/admin/clients/${a}/webhook-subscriptions`, 'adminA');
    expect(denied.statusCode).toBe(403);
    const list = await call('GET', `/api/admin/clients/${a}/webhook-subscriptions`, 'platform');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((s: { id: string }) => s.id)).toContain(subA);
    expect((await call('GET', `/api/admin/clients/${a}/webhook-deliveries/${deliveryA}`, 'platform')).statusCode).toBe(200);
    expect((await call('GET', `/api/admin/clients/no-such-client/webhook-subscriptions`, 'platform')).statusCode).toBe(404);
    const created = await call('POST', `/api/admin/clients/${b}/webhook-subscriptions`, 'platform', { url: 'https://b.example.com/', event_types: ['call.started'] });
    expect(created.statusCode).toBe(201);
    expect((await call('GET', `/api/clients/${a}/webhook-subscriptions/${created.json().id}`, 'adminA')).statusCode).toBe(404);
  });

  it('every change is audited with who and what, never a secret; refused changes are not', async () => {
    await t.deps.tenancy.withTenant(a, (tx) => updateDelivery(tx, a, deliveryA, { status: 'dead' }));
    expect((await call('PATCH', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'adminA', { status: 'disabled' })).statusCode).toBe(200);
    expect((await call('PATCH', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'adminA', { status: 'active' })).statusCode).toBe(200);
    // Nothing changed: nothing to audit.
    expect((await call('PATCH', `/api/clients/${a}/webhook-subscriptions/${subA}`, 'adminA', { status: 'active' })).statusCode).toBe(200);
    expect((await call('POST', `/api/clients/${a}/webhook-deliveries/${deliveryA}/replay`, 'adminA')).statusCode).toBe(202);
    const gone = await call('POST', `/api/admin/clients/${a}/webhook-subscriptions`, 'platform', { url: 'https://tmp.example.com/', event_types: ['call.started'] });
    expect((await call('DELETE', `/api/admin/clients/${a}/webhook-subscriptions/${gone.json().id}`, 'platform')).statusCode).toBe(204);

    const { items } = await queryAudit(t.deps.tenancy, { clientId: a, limit: 100 });
    const entries = items.reverse().filter((e) => e.action.startsWith('webhook_'));
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['webhook_subscription.create', emails.adminA],
      ['webhook_subscription.create', emails.adminA],
      ['webhook_subscription.delete', emails.adminA],
      ['webhook_subscription.rotate_secret', emails.adminA],
      ['webhook_subscription.update', emails.adminA],
      ['webhook_subscription.disable', emails.adminA],
      ['webhook_subscription.enable', emails.adminA],
      ['webhook_delivery.replay', emails.adminA],
      // A platform admin's email too, though the entry is written in the client's tenant transaction.
      ['webhook_subscription.create', emails.platform],
      ['webhook_subscription.delete', emails.platform],
    ]);
    expect(entries.every((e) => e.client_id === a && e.request_id !== null && e.actor_user_id !== null)).toBe(true);
    expect(entries[0]).toMatchObject({
      target_id: subA,
      diff: { changes: [{ path: '$.url', to: 'https://hooks.example.com/xlnc' }, { path: '$.event_types', to: ['appointment.booked', 'call.completed'] }, { path: '$.description', to: 'CRM' }, { path: '$.secret', to: '••••' }], secret: 'generated' },
    });
    expect(entries[4]?.diff).toEqual({ changes: [{ path: '$.event_types', from: ['appointment.booked', 'call.completed'], to: ['appointment.booked'] }, { path: '$.description', from: 'CRM', to: null }] });
    expect(entries[5]?.diff).toEqual({ changes: [{ path: '$.status', from: 'active', to: 'disabled' }] });
    expect(entries[7]).toMatchObject({ target_id: deliveryA, diff: { subscription_id: subA, webhook_id: `msg_${deliveryA.replaceAll('-', '')}`, changes: [{ path: '$.status', from: 'dead', to: 'pending' }] } });
    // Every whsec_ the API ever answered (generated, brought, rotated) and every sealed value: none in the log.
    const logged = JSON.stringify(entries);
    const secrets = bodies.flatMap((body) => [...body.matchAll(/"secret":"(whsec_[^"]+)"/g)].map((m) => m[1]!));
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets) expect(logged).not.toContain(secret.slice(6));
    expect(logged).not.toMatch(/whsec_|enc:v1:/);
    // The viewer's and the other client's refused attempts left nothing.
    expect(entries.some((e) => e.actor === emails.viewerA || e.actor === emails.adminB)).toBe(false);
    expect((await queryAudit(t.deps.tenancy, { clientId: b, limit: 100 })).items.map((e) => [e.action, e.actor])).toEqual([['webhook_subscription.create', emails.platform]]);
  });

  it('no answer ever carries a stored secret', () => {
    const secrets = bodies.flatMap((body) => [...body.matchAll(/"secret":"(whsec_[^"]+)"/g)].map((m) => m[1]!));
    for (const secret of secrets) {
      expect(bodies.filter((body) => body.includes(secret))).toHaveLength(1);
    }
  });
});
