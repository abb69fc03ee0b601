/**
 * Outbound deliveries against a simulated clock and retry schedule (no real hour passes): the
 * real fan-out and delivery code on a real database, with the job queue replaced by a scheduler
 * that runs each enqueued attempt when the simulated clock reaches its start time, and the
 * receiver replaced by a recorder whose availability follows that clock. Every received message is
 * checked with the official `standardwebhooks` verifier.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServableClient } from '../clients/client.schema.ts';
import type { DomainEvent, DomainEventPayload, DomainEventType } from '../core/domain-events.ts';
import type { OutboundHttp, OutboundRequest, SafeResponse } from '../platform/outbound-http.ts';
import { eventsOf, outboxWithoutSubscribers } from '../../test/helpers/outbox.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { findDelivery, listAttempts, listDeliveries } from './outbound-webhooks.repo.ts';
import { createOutboundWebhooksService } from './outbound-webhooks.service.ts';
import { attemptDelivery, fanOutEvent, RETRY_WINDOW_MS, type DeliveryContext } from './webhook-delivery.ts';

/** Changes made here are audited as the command line's. */
const CLI = { userId: null, requestId: null };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Received = { at: number; headers: Record<string, string>; body: string; answered: number };

/** Verifies with the official package at the simulated time (its 5-minute tolerance reads Date.now()). */
function verifies(secret: string, message: Received): boolean {
  vi.useFakeTimers({ toFake: ['Date'], now: message.at });
  try {
    new Webhook(secret).verify(message.body, message.headers);
    return true;
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

/** A simulated world: clock, queue (scheduler) and receiver. */
function simulation(t: TestApp, start: number, isUp: (at: number) => boolean) {
  let now = start;
  const jobs: { key: string; deliveryId: string; clientId: string; runAt: number; order: number }[] = [];
  const keys = new Set<string>();
  let order = 0;
  const received: Received[] = [];
  const outbound: OutboundHttp = {
    urlProblem: () => null,
    async request(request: OutboundRequest): Promise<SafeResponse> {
      const answered = isUp(now) ? 204 : 503;
      received.push({ at: now, headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])), body: request.body, answered });
      return { ok: true, status: answered, headers: {}, body: Buffer.alloc(0) };
    },
  };
  const ctx: DeliveryContext = {
    tenancy: t.deps.tenancy,
    events: t.deps.events,
    sealer: t.deps.sealer,
    logger: t.deps.logger,
    outbound,
    clock: () => new Date(now),
    queue: {
      async enqueue(_definition, payload, options = {}) {
        const key = options.key ?? randomUUID();
        // pg-boss's deterministic job id: the same key never makes a second job.
        if (keys.has(key)) return null;
        keys.add(key);
        const data = payload as unknown as { client_id: string; delivery_id: string };
        jobs.push({ key, deliveryId: data.delivery_id, clientId: data.client_id, runAt: options.startAfter?.getTime() ?? now, order: order++ });
        return key;
      },
    },
  };
  return {
    ctx,
    received,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    /** Runs every due job in time order until none is left (bounded). */
    async runAll(limit = 2000): Promise<number> {
      let runs = 0;
      while (jobs.length > 0) {
        if (++runs > limit) throw new Error('simulation did not settle');
        jobs.sort((a, b) => a.runAt - b.runAt || a.order - b.order);
        const job = jobs.shift()!;
        now = Math.max(now, job.runAt);
        await attemptDelivery(job.clientId, job.deliveryId, ctx);
      }
      return runs;
    },
  };
}

describe('outbound webhook deliveries (simulated clock)', () => {
  let t: TestApp;
  const a = uniqueId('owh-a');
  const outbox = outboxWithoutSubscribers();

  const client = (id: string) => {
    const record = t.deps.registry.get(id);
    if (record?.status !== 'active') throw new Error(`client ${id} not active`);
    return record as ServableClient;
  };
  const emit = async <T extends DomainEventType>(clientId: string, type: T, payload: DomainEventPayload<T>, at: number): Promise<DomainEvent> => {
    const event = await t.deps.tenancy.withTenant(clientId, (tx) => outbox.emit(tx, clientId, type, payload, { key: uniqueId('cause'), occurredAt: new Date(at) }));
    if (!event) throw new Error('not emitted');
    return event;
  };
  const service = (now: () => number) =>
    createOutboundWebhooksService({ tenancy: t.deps.tenancy, sealer: t.deps.sealer, outbound: { urlProblem: () => null }, queue: { enqueue: async () => null }, clock: () => new Date(now()) });
  const appointment = (starts: string) => ({ appointment_id: randomUUID(), call_id: 'call_1', starts_at: starts, ends_at: starts, provider: 'internal' });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('a receiver down for an hour gets every event once after it recovers, ordered types in order, each signature verified', async () => {
    const start = Date.parse('2026-03-02T09:00:00Z');
    const recoverAt = start + HOUR;
    const sim = simulation(t, start, (at) => at >= recoverAt);
    const created = await service(sim.now).create(a, { url: 'https://hooks.example.com/a', event_types: ['appointment.booked', 'appointment.rescheduled', 'appointment.cancelled', 'call.completed', 'message.sent'] }, CLI);

    const booked = appointment('2026-03-03T10:00:00Z');
    const events = [
      await emit(a, 'appointment.booked', booked, start),
      await emit(a, 'call.completed', { call_id: 'call_1', connection: 'connected', with_analysis: true, duration_ms: 1000, disconnection_reason: null, ended_at: null }, start),
      await emit(a, 'appointment.rescheduled', { ...booked, starts_at: '2026-03-04T10:00:00Z', previous_starts_at: booked.starts_at }, start),
      await emit(a, 'message.sent', { message_id: randomUUID(), call_id: 'call_1', channel: 'sms', kind: 'confirmation', provider: 'twilio', provider_message_id: 'SM1' }, start),
      await emit(a, 'appointment.cancelled', { appointment_id: booked.appointment_id, call_id: 'call_1', starts_at: '2026-03-04T10:00:00Z' }, start),
    ];
    for (const event of events) expect(await fanOutEvent(client(a), event, sim.ctx)).toBe(1);
    // A repeated fan-out (the subscriber job run again) adds no delivery and no job.
    for (const event of events) expect(await fanOutEvent(client(a), event, sim.ctx)).toBe(0);

    await sim.runAll();

    const delivered = sim.received.filter((m) => m.answered === 204);
    // Every event exactly once, and only after the receiver came back.
    expect(delivered.map((m) => (JSON.parse(m.body) as { event_id: string }).event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(new Set(delivered.map((m) => m.headers['webhook-id'])).size).toBe(events.length);
    expect(delivered.every((m) => m.at >= recoverAt)).toBe(true);
    // Retries of one event carry its one webhook-id (the receiver can recognise a duplicate).
    for (const event of events) {
      const ids = new Set(sim.received.filter((m) => (JSON.parse(m.body) as { event_id: string }).event_id === event.id).map((m) => m.headers['webhook-id']));
      expect(ids.size).toBe(1);
    }
    // The appointment's events arrive in the order they happened; only the head of that stream was retried while down.
    const appointmentTypes = delivered.map((m) => (JSON.parse(m.body) as { type: string }).type).filter((type) => type.startsWith('appointment.'));
    expect(appointmentTypes).toEqual(['appointment.booked', 'appointment.rescheduled', 'appointment.cancelled']);
    const failedWhileDown = sim.received.filter((m) => m.answered === 503).map((m) => (JSON.parse(m.body) as { type: string }).type);
    expect(failedWhileDown.filter((type) => type === 'appointment.rescheduled' || type === 'appointment.cancelled')).toEqual([]);
    // Exponential backoff: the head's attempts are 30 s, 1, 2, 4, 8, 16, 32 min apart, so it is delivered ~64 min after the first try.
    const headTimes = sim.received.filter((m) => (JSON.parse(m.body) as { event_id: string }).event_id === events[0]!.id).map((m) => m.at);
    expect(headTimes.slice(1).map((at, i) => at - headTimes[i]!)).toEqual([0.5, 1, 2, 4, 8, 16, 32].map((m) => m * MINUTE));
    // Signed with the subscription's secret, verified by the official package.
    expect(sim.received.every((m) => verifies(created.secret, m))).toBe(true);
    expect(sim.received.some((m) => verifies(`whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`, m))).toBe(false);

    // The delivery log: status, attempts, response code and latency per attempt.
    const rows = await t.deps.tenancy.withTenant(a, (tx) => listDeliveries(tx, a, { subscriptionId: created.id, limit: 10 }));
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
    const head = rows.find((r) => r.eventId === events[0]!.id)!;
    expect(head).toMatchObject({ attempts: 8, lastStatusCode: 204 });
    const attempts = await t.deps.tenancy.withTenant(a, (tx) => listAttempts(tx, a, head.id));
    expect(attempts.map((x) => [x.attempt, x.outcome, x.statusCode])).toEqual([...[1, 2, 3, 4, 5, 6, 7].map((n) => [n, 'failed', 503]), [8, 'succeeded', 204]]);
    expect(attempts.every((x) => x.latencyMs >= 0)).toBe(true);
    expect((await service(sim.now).get(a, created.id)).failing_since).toBeNull();
  });

  it('during a rotation both secrets verify; after the window only the new one', async () => {
    const start = Date.parse('2026-04-01T09:00:00Z');
    const sim = simulation(t, start, () => true);
    const svc = service(sim.now);
    const created = await svc.create(a, { url: 'https://hooks.example.com/rot', event_types: ['customer.opted_out'] }, CLI);
    const rotated = await svc.rotateSecret(a, created.id, 24, CLI);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.previous_secret_valid_until).toBe(new Date(start + 24 * HOUR).toISOString());
    // Listing shows neither secret.
    expect(JSON.stringify(await svc.list(a))).not.toContain(rotated.secret.slice(6, 20));

    const during = await emit(a, 'customer.opted_out', { customer_id: randomUUID(), phone: '+14155550100', source: 'sms_keyword' }, start);
    await fanOutEvent(client(a), during, sim.ctx);
    await sim.runAll();
    const [first] = sim.received.splice(0);
    expect(first!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifies(rotated.secret, first!)).toBe(true);
    expect(verifies(created.secret, first!)).toBe(true);

    sim.advance(25 * HOUR);
    const after = await emit(a, 'customer.opted_out', { customer_id: randomUUID(), phone: '+14155550101', source: 'sms_keyword' }, sim.now());
    await fanOutEvent(client(a), after, sim.ctx);
    await sim.runAll();
    const [second] = sim.received.splice(0);
    expect(second!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifies(rotated.secret, second!)).toBe(true);
    expect(verifies(created.secret, second!)).toBe(false);
  });

  it('a subscription failing for 24 hours is disabled once, raises webhook_subscription.disabled, and hears nothing more until re-enabled', async () => {
    const start = Date.parse('2026-05-01T09:00:00Z');
    const sim = simulation(t, start, () => false);
    const svc = service(sim.now);
    const created = await svc.create(a, { url: 'https://down.example.com/x', event_types: ['integration.degraded', 'call.started'] }, CLI);
    const first = await emit(a, 'integration.degraded', { capability: 'sms', provider: 'twilio', detail: 'x' }, start);
    const second = await emit(a, 'call.started', { call_id: 'c2', agent_id: null, direction: null, from_number: null, to_number: null, started_at: null }, start);
    await fanOutEvent(client(a), first, sim.ctx);
    await fanOutEvent(client(a), second, sim.ctx);
    await sim.runAll();

    expect(sim.now() - start).toBe(RETRY_WINDOW_MS);
    const view = await svc.get(a, created.id);
    expect(view.status).toBe('disabled');
    expect(view.disabled_reason).toMatch(/24 hours/);
    const disabled = await eventsOf(t.deps.tenancy, a, 'webhook_subscription.disabled');
    expect(disabled.filter((e) => (e.payload as { subscription_id: string }).subscription_id === created.id)).toHaveLength(1);
    expect(disabled.at(-1)!.payload).toMatchObject({ url_host: 'down.example.com', failing_since: new Date(start).toISOString() });
    for (const event of [first, second]) {
      const rows = await t.deps.tenancy.withTenant(a, (tx) => listDeliveries(tx, a, { subscriptionId: created.id, limit: 10 }));
      expect(rows.find((r) => r.eventId === event.id)?.status).toBe('dead');
    }

    // Disabled: new events make no delivery.
    const later = await emit(a, 'call.started', { call_id: 'c3', agent_id: null, direction: null, from_number: null, to_number: null, started_at: null }, sim.now());
    expect(await fanOutEvent(client(a), later, sim.ctx)).toBe(0);

    // Re-enabled and the receiver back: a dead delivery replays (same webhook-id) and succeeds.
    const up = simulation(t, sim.now(), () => true);
    const svcUp = createOutboundWebhooksService({ tenancy: t.deps.tenancy, sealer: t.deps.sealer, outbound: { urlProblem: () => null }, queue: up.ctx.queue, clock: () => new Date(up.now()) });
    expect((await svcUp.update(a, created.id, { status: 'active' }, CLI)).status).toBe('active');
    const [dead] = (await svcUp.deliveries(a, { subscription_id: created.id, status: 'dead', limit: 1 })).items;
    await expect(svcUp.replay(a, randomUUID(), CLI)).rejects.toMatchObject({ code: 'not_found' });
    const replayed = await svcUp.replay(a, dead!.id, CLI);
    expect(replayed.status).toBe('pending');
    await expect(svcUp.replay(a, dead!.id, CLI)).rejects.toMatchObject({ code: 'conflict' });
    await up.runAll();
    expect(up.received).toHaveLength(1);
    expect(up.received[0]!.headers['webhook-id']).toBe(dead!.webhook_id);
    const row = await t.deps.tenancy.withTenant(a, (tx) => findDelivery(tx, a, dead!.id));
    expect(row?.status).toBe('succeeded');
  });
});
