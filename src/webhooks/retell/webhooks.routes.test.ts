import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEvents, calls, customers } from '../../platform/db/schema.ts';
import { sqlRows } from '../../platform/db/database.ts';
import { agentFor, callEvent, postSigned, retellKeyFor } from '../../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../../test/helpers/test-app.ts';

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('POST /api/webhooks/retell/:clientId', () => {
  let t: TestApp;
  let dir: string;
  const a = uniqueId('hook-a');
  const b = uniqueId('hook-b');
  const disabled = uniqueId('hook-off');
  const broken = uniqueId('hook-bad');
  const limited = uniqueId('hook-rl');

  const eventsFor = (clientId: string, callId: string) =>
    t.deps.tenancy.withTenant(clientId, (tx) => tx.select().from(callEvents).where(eq(callEvents.callId, callId)));
  const callRow = async (clientId: string, callId: string) =>
    (await t.deps.tenancy.withTenant(clientId, (tx) => tx.select().from(calls).where(and(eq(calls.clientId, clientId), eq(calls.callId, callId)))))[0];
  const jobsFor = (clientId: string, name: string) =>
    sqlRows<{ n: number }>(t.deps.database.db, sql`select count(*)::int as n from pgboss.job where group_id = ${clientId} and name = ${name}`).then((r) => r[0]?.n ?? 0);

  beforeAll(async () => {
    dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    writeClientFile(dir, testClientConfig(disabled, { status: 'disabled' }));
    writeClientFile(dir, { ...testClientConfig(broken), timezone: 'Nowhere/Land' });
    writeClientFile(dir, testClientConfig(limited, { limits: { webhooks_per_minute: 3 } }));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('rejects unknown, disabled and misconfigured clients before reading the body', async () => {
    const unknown = await postSigned(t.app, 'nobody-here', callEvent('nobody-here', 'call_started', 'c1'));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('unknown_client');
    const off = await postSigned(t.app, disabled, callEvent(disabled, 'call_started', 'c1'));
    expect(off.statusCode).toBe(403);
    expect(off.json().error.code).toBe('client_disabled');
    const bad = await postSigned(t.app, broken, callEvent(broken, 'call_started', 'c1'));
    expect(bad.statusCode).toBe(503);
    expect(bad.json().error).toMatchObject({ code: 'client_misconfigured' });
    expect(bad.json().error.request_id).toBeTruthy();
    // Says only what is true: nobody is told (a log line, a metric and /ready exist), and where to look.
    expect(bad.json().error.message).not.toMatch(/has been told|notified/);
    expect(bad.json().error.message).toContain('/ready');
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const huge = callEvent(a, 'call_ended', 'call_huge', { transcript: 'x'.repeat(1024 * 1024) });
    const res = await postSigned(t.app, a, huge);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
    expect(await eventsFor(a, 'call_huge')).toHaveLength(0);
  });

  it('rejects a missing, wrong or stale signature with 401', async () => {
    const payload = callEvent(a, 'call_started', 'call_sig');
    const missing = await postSigned(t.app, a, payload, { signature: null });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('invalid_signature');
    const wrongKey = await postSigned(t.app, a, payload, { key: 'key_someone_else_1234' });
    expect(wrongKey.json().error.code).toBe('invalid_signature');
    const stale = await postSigned(t.app, a, payload, { timestampMs: Date.now() - 6 * 60_000 });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.code).toBe('stale_signature');
    const future = await postSigned(t.app, a, payload, { timestampMs: Date.now() + 2 * 60_000 });
    expect(future.json().error.code).toBe('stale_signature');
    expect(await eventsFor(a, 'call_sig')).toHaveLength(0);
  });

  it('the same signed body sent to another client URL is refused', async () => {
    const payload = callEvent(a, 'call_started', 'call_cross');
    const res = await postSigned(t.app, b, payload, { key: retellKeyFor(a) });
    expect([401, 403]).toContain(res.statusCode);
    expect(await eventsFor(b, 'call_cross')).toHaveLength(0);
  });

  it("refuses an event whose agent belongs to another client even when signed with this client's key", async () => {
    const payload = callEvent(a, 'call_started', 'call_agent', { agent_id: agentFor(b) });
    const res = await postSigned(t.app, a, payload);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('agent_not_owned');
  });

  it('answers 400 invalid_payload naming the field', async () => {
    const notJson = await postSigned(t.app, a, '{"event": "call_started", ');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('invalid_payload');
    const noCallId = await postSigned(t.app, a, { event: 'call_ended', call: { agent_id: agentFor(a) } });
    expect(noCallId.statusCode).toBe(400);
    expect(noCallId.json().error.message).toContain('call.call_id');
    const wrongType = await postSigned(t.app, a, callEvent(a, 'call_ended', 'call_type', { duration_ms: 'long' }));
    expect(wrongType.json().error.message).toContain('call.duration_ms');
    const noEvent = await postSigned(t.app, a, { call: {} });
    expect(noEvent.json().error.message).toContain('event');
  });

  it('stores call_started, upserts the call and customer, enqueues its job, answers 204', async () => {
    const res = await postSigned(t.app, a, callEvent(a, 'call_started', 'call_one'));
    expect(res.statusCode).toBe(204);
    const row = await callRow(a, 'call_one');
    expect(row).toMatchObject({ status: 'ongoing', direction: 'inbound', fromNumber: '+14155550142', lifecycleRank: 1 });
    const [customer] = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(customers).where(eq(customers.phone, '+14155550142')));
    expect(customer?.id).toBe(row?.customerId);
    expect(customer?.callCount).toBe(1);
    expect(await jobsFor(a, 'event.call-started')).toBe(1);

    // The request's one log line names the client, the call, the event and the outcome.
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.call_id === 'call_one' && l.msg === 'request completed');
    expect(line).toMatchObject({ client_id: a, call_id: 'call_one', event: 'call_started', outcome: 'accepted', status: 204 });

    // A later event of the same call is not a second call; another call from the same number is.
    await postSigned(t.app, a, callEvent(a, 'call_ended', 'call_one'));
    await postSigned(t.app, a, callEvent(a, 'call_started', 'call_two'));
    const [again] = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(customers).where(eq(customers.phone, '+14155550142')));
    expect(again).toMatchObject({ id: customer?.id, callCount: 2 });
    expect((await callRow(a, 'call_two'))?.customerId).toBe(customer?.id);
  });

  it('a duplicate delivery is a no-op that still answers 2xx', async () => {
    const payload = callEvent(a, 'call_ended', 'call_dup');
    expect((await postSigned(t.app, a, payload)).statusCode).toBe(204);
    expect((await postSigned(t.app, a, payload)).statusCode).toBe(204);
    expect(await eventsFor(a, 'call_dup')).toHaveLength(1);
    expect(await jobsFor(a, 'event.post-call')).toBeGreaterThanOrEqual(1);
    const before = await jobsFor(a, 'event.post-call');
    await postSigned(t.app, a, payload);
    expect(await jobsFor(a, 'event.post-call')).toBe(before);
  });

  it('call_analyzed before call_ended: the later data is never overwritten by the earlier event', async () => {
    const analysis = { call_summary: 'Booked a cleaning', user_sentiment: 'Positive', call_successful: true };
    await postSigned(t.app, a, callEvent(a, 'call_analyzed', 'call_ooo', { transcript: 'final transcript', call_analysis: analysis }));
    await postSigned(t.app, a, callEvent(a, 'call_ended', 'call_ooo', { transcript: 'ended transcript', recording_url: 'https://rec.example/1.wav' }));
    await postSigned(t.app, a, callEvent(a, 'call_started', 'call_ooo', { call_status: 'ongoing' }));
    const row = await callRow(a, 'call_ooo');
    expect(row).toMatchObject({
      lifecycleRank: 3,
      status: 'ended',
      transcript: 'final transcript',
      summary: 'Booked a cleaning',
      sentiment: 'Positive',
      successful: true,
      recordingUrl: 'https://rec.example/1.wav',
      durationMs: 95_000,
      disconnectionReason: 'user_hangup',
    });
  });

  it('answers call_inbound with 200 and a call_inbound object', async () => {
    const res = await postSigned(t.app, a, {
      event: 'call_inbound',
      event_timestamp: Date.now(),
      call_inbound: { agent_id: agentFor(a), from_number: '+14155550142', to_number: '+14155550100' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty('call_inbound');
  });

  it('stores and acknowledges an event type it does not know', async () => {
    const res = await postSigned(t.app, a, { event: 'chat_started', chat: { chat_id: 'chat_1' } });
    expect(res.statusCode).toBe(204);
    const res2 = await postSigned(t.app, a, callEvent(a, 'call_future_thing', 'call_future'));
    expect(res2.statusCode).toBe(204);
    expect(await eventsFor(a, 'call_future')).toHaveLength(1);
  });

  it('rate-limits per client with 429 and Retry-After, without touching other clients', async () => {
    for (let i = 0; i < 3; i++) expect((await postSigned(t.app, limited, callEvent(limited, 'call_started', `call_rl_${i}`))).statusCode).toBe(204);
    const over = await postSigned(t.app, limited, callEvent(limited, 'call_started', 'call_rl_x'));
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await postSigned(t.app, b, callEvent(b, 'call_started', 'call_rl_other'))).statusCode).toBe(204);
  });

  it('counts outcomes in xlnc_webhook_events_total; per-client HTTP figures are counters, not histograms', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toContain(`xlnc_webhook_events_total{client_id="${a}",event="call_ended",outcome="duplicate"}`);
    expect(res.body).toContain(`xlnc_webhook_events_total{client_id="${a}",event="unknown",outcome="invalid_signature"}`);
    expect(res.body).toMatch(new RegExp(`xlnc_client_http_requests_total\\{client_id="${a}",status_class="2xx"\\} [1-9]`));
    expect(res.body).toMatch(new RegExp(`xlnc_client_http_requests_total\\{client_id="${a}",status_class="4xx"\\} [1-9]`));
    // Histogram series do not multiply by the client count.
    expect(res.body).not.toMatch(/_bucket\{[^}]*client_id=/);
  });

  it('a new client file resolves within 2 s without a restart, and a deleted one stops resolving', async () => {
    const fresh = uniqueId('hook-new');
    const started = Date.now();
    writeClientFile(dir, testClientConfig(fresh));
    await until(async () => (await postSigned(t.app, fresh, callEvent(fresh, 'call_started', 'call_new'))).statusCode === 204);
    expect(Date.now() - started).toBeLessThan(2000);
    rmSync(join(dir, `${fresh}.json`));
    const removedAt = Date.now();
    await until(async () => {
      const res = await postSigned(t.app, fresh, callEvent(fresh, 'call_started', 'call_new2'));
      return res.statusCode === 404 && res.json().error.code === 'unknown_client';
    });
    expect(Date.now() - removedAt).toBeLessThan(2000);
  });
});
