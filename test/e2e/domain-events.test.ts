/**
 * Domain events (src/core/domain-events.ts): every type is emitted exactly once when its cause
 * commits (redelivered webhooks, re-run jobs and repeated calls included), never when the cause
 * rolls back, and only to its own client (RLS). A test subscriber receives a booked call's events
 * in the client's order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callStarted } from '../../src/calls/call-started.job.ts';
import { postCallFallback, postCallWorkflow, runPostCallWorkflow, SUMMARY_FALLBACK } from '../../src/calls/post-call.job.ts';
import type { ServableClient } from '../../src/clients/client.schema.ts';
import { syncClientCatalog } from '../../src/clients/clients.repo.ts';
import { runJob, startWorkers } from '../../src/core/dispatch.ts';
import type { DomainEvent, DomainEventEmitter, DomainEventType } from '../../src/core/domain-events.ts';
import { createOutbox } from '../../src/core/outbox.ts';
import type { JobAttempt } from '../../src/core/jobs.ts';
import { JOB_CATALOGUE, SUBSCRIBERS } from '../../src/core/router.ts';
import { defineSubscriber } from '../../src/core/subscribers.ts';
import { changeOptOut, upsertCustomer } from '../../src/customers/customers.service.ts';
import { calendarServiceFor } from '../../src/integrations/calendar/calendar.service.ts';
import { integrationHealthFor } from '../../src/integrations/integration-health.ts';
import { twilioSignature } from '../../src/integrations/sms/twilio.ts';
import { sendMessage } from '../../src/messages/message-send.job.ts';
import { queueMessage } from '../../src/messages/messages.service.ts';
import { sqlRows } from '../../src/platform/db/database.ts';
import { domainEvents } from '../../src/platform/db/schema.ts';
import { ProviderError } from '../../src/platform/provider-http.ts';
import { simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.ts';
import { eventsOf, noQueue } from '../helpers/outbox.ts';
import { agentFor, callEvent, postSigned } from '../helpers/retell.ts';
import { injectFetch, until } from '../helpers/inject-fetch.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { dropSchema } from '../helpers/test-db.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const NO_QUIET_HOURS = { start: '00:00', end: '00:00' };
const FIRST: JobAttempt = { jobId: 'test', retryCount: 0, final: false };
const RETRY: JobAttempt = { jobId: 'test', retryCount: 1, final: false };

/** An emitter that writes the event and then fails: the cause's transaction must roll back with it. */
function failingAfterEmit(real: DomainEventEmitter): DomainEventEmitter {
  return {
    async emit(...args: Parameters<DomainEventEmitter['emit']>) {
      await real.emit(...args);
      throw new Error('the cause fails after emitting');
    },
  };
}

const twilioSid = `AC${'4'.repeat(32)}`;
const twilioToken = 'twilio-token-events-000444';

function liveClientFile(id: string, twilioUrl: string, overrides: Record<string, unknown> = {}) {
  return {
    ...testClientConfig(id),
    environment: 'live',
    business_hours: ALWAYS_OPEN,
    retell: { api_key: `env:EV_RETELL_${id.replaceAll('-', '_').toUpperCase()}`, agent_ids: [agentFor(id)] },
    calendar: { provider: 'internal', min_notice_minutes: 0 },
    sms: { enabled: true, provider: 'twilio', account_sid: twilioSid, auth_token: 'env:EV_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilioUrl, quiet_hours: NO_QUIET_HOURS },
    ...overrides,
  };
}
const retellKey = (id: string) => `key_live_${id.replaceAll('-', '_')}_events`;
const retellEnv = (ids: string[]) => Object.fromEntries(ids.map((id) => [`EV_RETELL_${id.replaceAll('-', '_').toUpperCase()}`, retellKey(id)]));

describe('a subscriber hears a booked call', () => {
  let t: TestApp;
  let twilio: TwilioFake;
  const client = uniqueId('ev-sub');
  const queueSchema = `pgboss_${uniqueId('ev').replaceAll('-', '_')}`;
  const received: DomainEvent[] = [];
  const heard = defineSubscriber({
    name: 'test-recorder',
    events: ['call.started', 'call.completed', 'appointment.booked', 'message.sent'],
    async handle(_client, event) {
      received.push(event);
    },
  });

  beforeAll(async () => {
    twilio = await startTwilioFake({ accounts: { [twilioSid]: twilioToken } });
    const dir = tempDir('clients-');
    writeClientFile(dir, liveClientFile(client, twilio.url));
    const catalogue = { jobs: JOB_CATALOGUE.jobs, subscribers: [...SUBSCRIBERS, heard] };
    t = await createTestApp({ clientsDir: dir, env: { EV_TWILIO_TOKEN: twilioToken, ...retellEnv([client]) }, queueSchema, catalogue });
    await startWorkers(t.deps, catalogue, { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 });
  });
  afterAll(async () => {
    await t.close();
    await dropSchema(queueSchema);
    await twilio.close();
  });

  it('receives call.started, appointment.booked, message.sent and call.completed once each, in the order the client committed them, with every webhook delivered three times', async () => {
    const steps = await simulateCall({ baseUrl: 'http://app', clientId: client, apiKey: retellKey(client), agentId: agentFor(client), scenario: 'booked', fetch: injectFetch(t, 3) });
    expect(steps.filter((s) => s.status >= 400)).toEqual([]);
    expect(steps.find((s) => s.label === 'function book_appointment')?.body).toMatchObject({ booked: true });
    await until(async () => new Set(received.map((e) => e.type)).size === 4, 30_000, 'the four events');
    const types = received.map((e) => e.type);
    expect([...types].sort()).toEqual(['appointment.booked', 'call.completed', 'call.started', 'message.sent']);
    // In the client's order: each delivery's seq is above the one before.
    const seqs = received.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // A call's start comes first; the booking before the confirmation text it sent.
    expect(types[0]).toBe('call.started');
    expect(types.indexOf('appointment.booked')).toBeLessThan(types.indexOf('message.sent'));
    const callId = (received[0]?.payload as { call_id: string }).call_id;
    for (const event of received) {
      expect(event).toMatchObject({ client_id: client, version: 1 });
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(event.occurred_at)).not.toBeNaN();
      if ('call_id' in event.payload) expect(event.payload.call_id).toBe(callId);
    }
    expect(received.find((e) => e.type === 'call.completed')?.payload).toMatchObject({ connection: 'connected', with_analysis: true });
    // The outbox holds each once, too.
    expect((await eventsOf(t.deps.tenancy, client)).map((e) => e.type).sort()).toEqual(['appointment.booked', 'call.completed', 'call.started', 'message.sent']);
  });
});

describe('each domain event: once per cause, never on rollback, only for its client', () => {
  let t: TestApp;
  let twilio: TwilioFake;
  const a = uniqueId('ev-a');
  const b = uniqueId('ev-b');
  const invalid = uniqueId('ev-bad');
  let clientA: ServableClient;
  const count = async (type: DomainEventType, clientId = a) => (await eventsOf(t.deps.tenancy, clientId, type)).length;

  beforeAll(async () => {
    twilio = await startTwilioFake({ accounts: { [twilioSid]: twilioToken } });
    const dir = tempDir('clients-');
    writeClientFile(dir, liveClientFile(a, twilio.url));
    writeClientFile(dir, liveClientFile(b, twilio.url));
    writeFileSync(join(dir, `${invalid}.json`), JSON.stringify({ ...testClientConfig(invalid), timezone: 'Mars/Olympus_Mons' }));
    t = await createTestApp({ clientsDir: dir, env: { EV_TWILIO_TOKEN: twilioToken, ...retellEnv([a, b]) } });
    clientA = t.deps.registry.get(a) as ServableClient;
  });
  afterAll(async () => {
    await t.close();
    await twilio.close();
  });

  const postThrice = async (clientId: string, payload: unknown) => {
    for (let i = 0; i < 3; i++) expect((await postSigned(t.app, clientId, payload, { key: retellKey(clientId) })).statusCode).toBe(204);
  };
  const storedEventId = async (clientId: string, callId: string, event: string) =>
    (await sqlRows<{ id: string }>(t.deps.database.db, sql`select id from call_events where client_id = ${clientId} and call_id = ${callId} and event = ${event}`))[0]!.id;

  it('call.started: from the stored call_started, once under 3x delivery and a re-run job; a failing job writes none', async () => {
    const callId = `call_${uniqueId('st')}`;
    await postThrice(a, callEvent(a, 'call_started', callId));
    const payload = { client_id: a, call_id: callId, event: 'call_started', event_id: await storedEventId(a, callId, 'call_started') };
    await expect(runJob({ ...t.deps, events: { ...failingAfterEmit(t.deps.events), route: () => undefined } }, callStarted, payload, FIRST)).rejects.toThrow(/fails after emitting/);
    expect(await count('call.started')).toBe(0);
    await runJob(t.deps, callStarted, payload, FIRST);
    await runJob(t.deps, callStarted, payload, RETRY);
    const [event] = await eventsOf(t.deps.tenancy, a, 'call.started');
    expect(event?.payload).toMatchObject({ call_id: callId, direction: 'inbound', from_number: '+14155550142', started_at: new Date(1_795_000_000_000).toISOString() });
    expect(await count('call.started')).toBe(1);
  });

  it('call.completed: once from call_analyzed, not again from the fallback or a re-run; a failing run writes none (nor its workflow run)', async () => {
    const callId = `call_${uniqueId('cc')}`;
    await postThrice(a, callEvent(a, 'call_ended', callId));
    await postThrice(a, callEvent(a, 'call_analyzed', callId, { call_analysis: { call_summary: 'Asked about hours', user_sentiment: 'Neutral' } }));
    const analyzedId = await storedEventId(a, callId, 'call_analyzed');
    await expect(runPostCallWorkflow(clientA, callId, 'call_analyzed', analyzedId, { ...t.deps, events: failingAfterEmit(t.deps.events) })).rejects.toThrow(/fails after emitting/);
    expect(await count('call.completed')).toBe(0);
    expect(await sqlRows(t.deps.database.db, sql`select 1 from workflow_runs where client_id = ${a} and call_id = ${callId}`)).toHaveLength(0);
    const payload = { client_id: a, call_id: callId, event: 'call_analyzed', event_id: analyzedId };
    await runJob(t.deps, postCallWorkflow, payload, FIRST);
    await runJob(t.deps, postCallWorkflow, payload, RETRY);
    await runJob(t.deps, postCallFallback, { ...payload, event: 'call_ended' }, FIRST);
    const completed = await eventsOf(t.deps.tenancy, a, 'call.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.payload).toMatchObject({ call_id: callId, connection: 'connected', with_analysis: true, duration_ms: 95_000 });
    // Its start came first, though no call_started was ever delivered for this call.
    const ofCall = (await eventsOf(t.deps.tenancy, a)).filter((e) => (e.payload as { call_id?: string }).call_id === callId).map((e) => e.type);
    expect(ofCall).toEqual(['call.started', 'call.completed']);
  });

  it('call.completed without analysis: the fallback completes a call of a client without email', async () => {
    const callId = `call_${uniqueId('fb')}`;
    await postThrice(a, callEvent(a, 'call_ended', callId, { disconnection_reason: 'registered_call_timeout', duration_ms: 0 }));
    const endedId = await storedEventId(a, callId, 'call_ended');
    await runPostCallWorkflow(clientA, callId, SUMMARY_FALLBACK, endedId, t.deps);
    await runPostCallWorkflow(clientA, callId, SUMMARY_FALLBACK, endedId, t.deps);
    const completed = (await eventsOf(t.deps.tenancy, a, 'call.completed')).filter((e) => (e.payload as { call_id: string }).call_id === callId);
    expect(completed).toHaveLength(1);
    expect(completed[0]?.payload).toMatchObject({ connection: 'no_answer', with_analysis: false });
  });

  it('appointment.booked, rescheduled, cancelled: once each however often the agent asks; none when the booking rolls back', async () => {
    const calendar = t.deps.adapters.calendarFor(clientA);
    const failing = calendarServiceFor(clientA, { tenancy: t.deps.tenancy, cache: t.deps.cache, providerContext: t.deps.providers, events: failingAfterEmit(t.deps.events) });
    const slots = await calendar.findSlots({ limit: 3 });
    expect(slots.length).toBeGreaterThanOrEqual(3);
    const callId = `call_${uniqueId('ap')}`;
    await expect(failing.book({ callId, start: slots[0]!.start, name: 'Jane Roe', phone: '+14155550142' })).rejects.toThrow(/fails after emitting/);
    expect(await count('appointment.booked')).toBe(0);
    expect(await sqlRows(t.deps.database.db, sql`select 1 from appointments where client_id = ${a} and call_id = ${callId}`)).toHaveLength(0);

    const first = await calendar.book({ callId, start: slots[0]!.start, name: 'Jane Roe', phone: '+14155550142' });
    const again = await calendar.book({ callId, start: slots[0]!.start, name: 'Jane Roe', phone: '+14155550142' });
    expect(first.status).toBe('booked');
    expect(again).toEqual(first);
    expect(await count('appointment.booked')).toBe(1);
    const id = first.status === 'booked' ? first.appointment.id : '';
    expect((await calendar.reschedule(id, slots[2]!.start)).status).toBe('booked');
    expect((await calendar.reschedule(id, slots[2]!.start)).status).toBe('booked');
    expect(await count('appointment.rescheduled')).toBe(1);
    expect((await calendar.cancel(id)).status).toBe('cancelled');
    expect((await calendar.cancel(id)).status).toBe('cancelled');
    expect(await count('appointment.cancelled')).toBe(1);
    const [rescheduled] = await eventsOf(t.deps.tenancy, a, 'appointment.rescheduled');
    expect(rescheduled?.payload).toMatchObject({ appointment_id: id, previous_starts_at: new Date(slots[0]!.start).toISOString(), starts_at: new Date(slots[2]!.start).toISOString() });
  });

  it('message.sent once for a message sent, re-run and reconciled; none when settling rolls back', async () => {
    const { message } = await t.deps.tenancy.withTenant(a, (tx) =>
      queueMessage(tx, clientA, { channel: 'sms', kind: 'followup', idempotencyKey: `test:${uniqueId('k')}`, callId: null, customerId: null, to: '+14155550142', body: `Hello ${uniqueId('b')}` }, t.deps),
    );
    // Sent, but the transaction recording it fails: no event, and the row is left for reconciling.
    await expect(sendMessage({ ...t.deps, events: failingAfterEmit(t.deps.events) }, clientA, message.id)).rejects.toThrow(/fails after emitting/);
    expect(await count('message.sent')).toBe(0);
    expect(await sendMessage(t.deps, clientA, message.id)).toBe('sent'); // reconciled through Twilio's list: found, not resent
    expect(await sendMessage(t.deps, clientA, message.id)).toBe('skipped');
    expect(twilio.messages.filter((m) => m.body === message.body)).toHaveLength(1);
    const sent = await eventsOf(t.deps.tenancy, a, 'message.sent');
    expect(sent.filter((e) => (e.payload as { message_id: string }).message_id === message.id)).toHaveLength(1);
  });

  const statusCallback = (clientId: string, params: Record<string, string>) => {
    const url = `${t.deps.config.publicBaseUrl}/api/webhooks/twilio/${clientId}/status`;
    return t.app.inject({
      method: 'POST',
      url: `/api/webhooks/twilio/${clientId}/status`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(twilioToken, url, params) },
      payload: new URLSearchParams(params).toString(),
    });
  };
  const sentMessage = async () => {
    const { message } = await t.deps.tenancy.withTenant(a, (tx) =>
      queueMessage(tx, clientA, { channel: 'sms', kind: 'followup', idempotencyKey: `test:${uniqueId('k')}`, callId: null, customerId: null, to: '+14155550142', body: `Status ${uniqueId('s')}` }, t.deps),
    );
    expect(await sendMessage(t.deps, clientA, message.id)).toBe('sent');
    return (await sqlRows<{ id: string; sid: string }>(t.deps.database.db, sql`select id, provider_message_id as sid from messages where id = ${message.id}`))[0]!;
  };

  it('message.delivered and message.failed: once each under three identical status callbacks', async () => {
    const delivered = await sentMessage();
    for (let i = 0; i < 3; i++) expect((await statusCallback(a, { MessageSid: delivered.sid, MessageStatus: 'delivered', AccountSid: twilioSid })).statusCode).toBe(204);
    const failed = await sentMessage();
    for (let i = 0; i < 3; i++) expect((await statusCallback(a, { MessageSid: failed.sid, MessageStatus: 'undelivered', ErrorCode: '30003', AccountSid: twilioSid })).statusCode).toBe(204);
    const of = async (type: DomainEventType, id: string) => (await eventsOf(t.deps.tenancy, a, type)).filter((e) => (e.payload as { message_id: string }).message_id === id);
    expect(await of('message.delivered', delivered.id)).toHaveLength(1);
    expect(await of('message.failed', failed.id)).toHaveLength(1);
    expect((await of('message.failed', failed.id))[0]?.payload).toMatchObject({ error_code: '30003' });
  });

  it('message.suppressed: once for a text to an opted-out number, none when the transaction rolls back', async () => {
    const key = `test:${uniqueId('sup')}`;
    const input = { channel: 'sms' as const, kind: 'followup', idempotencyKey: key, callId: null, customerId: null, to: '+14155550177', body: 'x', optedOut: true };
    await expect(
      t.deps.tenancy.withTenant(a, async (tx) => {
        await queueMessage(tx, clientA, input, t.deps);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const before = await count('message.suppressed');
    await t.deps.tenancy.withTenant(a, (tx) => queueMessage(tx, clientA, input, t.deps));
    await t.deps.tenancy.withTenant(a, (tx) => queueMessage(tx, clientA, input, t.deps));
    expect((await count('message.suppressed')) - before).toBe(1);
  });

  it('customer.opted_out and opted_in: once per change under three STOP / START texts; again on a second STOP; none when rolled back', async () => {
    const phone = '+14155550199';
    const inbound = (body: string) => {
      const params = { From: phone, To: '+15005550006', Body: body, AccountSid: twilioSid, MessageSid: `SM${'7'.repeat(32)}` };
      const url = `${t.deps.config.publicBaseUrl}/api/webhooks/twilio/${a}/inbound`;
      return t.app.inject({
        method: 'POST',
        url: `/api/webhooks/twilio/${a}/inbound`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(twilioToken, url, params) },
        payload: new URLSearchParams(params).toString(),
      });
    };
    const customerId = await t.deps.tenancy.withTenant(a, (tx) => upsertCustomer(tx, a, phone, new Date()));
    await expect(
      t.deps.tenancy.withTenant(a, async (tx) => {
        await changeOptOut(tx, a, customerId, true, { events: t.deps.events, source: 'sms_keyword' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await count('customer.opted_out')).toBe(0);
    for (let i = 0; i < 3; i++) expect((await inbound('STOP')).statusCode).toBe(200);
    expect(await count('customer.opted_out')).toBe(1);
    for (let i = 0; i < 3; i++) expect((await inbound('START')).statusCode).toBe(200);
    expect(await count('customer.opted_in')).toBe(1);
    expect((await inbound('STOP')).statusCode).toBe(200);
    expect(await count('customer.opted_out')).toBe(2);
    const [optedOut] = await eventsOf(t.deps.tenancy, a, 'customer.opted_out');
    expect(optedOut?.payload).toEqual({ customer_id: customerId, phone, source: 'sms_keyword' });
  });

  it('integration.degraded and recovered: once per change however many calls fail or succeed; none when rolled back', async () => {
    const refused = new ProviderError({ provider: 'twilio', operation: 'send_sms', message: 'refused', retryable: false, status: 401, code: '20003' });
    const failing = integrationHealthFor({ tenancy: t.deps.tenancy, cache: t.deps.cache, events: failingAfterEmit(t.deps.events) }, a, 'email');
    await expect(failing.failed('sendgrid', refused, 'fix it.')).rejects.toThrow(/fails after emitting/);
    expect(await count('integration.degraded')).toBe(0);
    const health = integrationHealthFor(t.deps, a, 'email');
    await health.failed('sendgrid', refused, 'fix it.');
    await health.failed('sendgrid', refused, 'fix it.');
    expect(await count('integration.degraded')).toBe(1);
    await health.ok('sendgrid');
    await health.ok('sendgrid');
    expect(await count('integration.recovered')).toBe(1);
    await health.failed('sendgrid', refused, 'fix it.');
    expect(await count('integration.degraded')).toBe(2);
    const [degraded] = await eventsOf(t.deps.tenancy, a, 'integration.degraded');
    expect(degraded?.payload).toMatchObject({ capability: 'email', provider: 'sendgrid' });
  });

  it('client.config_invalid and config_restored: once per change, whichever instance syncs first; none when the sync rolls back', async () => {
    const broken = uniqueId('ev-cfg');
    const entry = (status: 'active' | 'invalid', configHash: string) => ({ id: broken, name: broken, status, source: 'file' as const, configHash, issues: status === 'invalid' ? [{ path: '$.timezone', message: 'Invalid time zone' }] : [] });
    await syncClientCatalog(t.deps.tenancy, [entry('active', 'h1')], t.deps.events);
    await expect(syncClientCatalog(t.deps.tenancy, [entry('invalid', 'h2')], failingAfterEmit(t.deps.events))).rejects.toThrow(/fails after emitting/);
    expect(await count('client.config_invalid', broken)).toBe(0);
    // Two instances sync the same change.
    await syncClientCatalog(t.deps.tenancy, [entry('invalid', 'h2')], t.deps.events);
    await syncClientCatalog(t.deps.tenancy, [entry('invalid', 'h2')], t.deps.events);
    expect(await count('client.config_invalid', broken)).toBe(1);
    await syncClientCatalog(t.deps.tenancy, [entry('active', 'h3')], t.deps.events);
    await syncClientCatalog(t.deps.tenancy, [entry('active', 'h3')], t.deps.events);
    expect(await count('client.config_restored', broken)).toBe(1);
    const [invalid] = await eventsOf(t.deps.tenancy, broken, 'client.config_invalid');
    expect(invalid?.payload).toEqual({ config_hash: 'h2', issues: [{ path: '$.timezone', message: 'Invalid time zone' }] });
  });

  it('a subscriber with handleUnservable hears an invalid client\'s events at once; one without waits for the fix', async () => {
    expect(t.deps.registry.get(invalid)?.status).toBe('invalid');
    const event = await t.deps.tenancy.withTenant(invalid, (tx) => t.deps.events.emit(tx, invalid, 'client.config_invalid', { config_hash: 'x', issues: [] }, { key: uniqueId('inv') }));
    const payload = { client_id: invalid, event_id: event!.id, seq: event!.seq, type: event!.type };
    const heard: string[] = [];
    const alerts = defineSubscriber({
      name: 'test-alerts',
      events: ['client.config_invalid'],
      ordered: false,
      handle: async () => undefined,
      handleUnservable: async (client, e) => void heard.push(`${client.id}:${client.status}:${e.type}`),
    });
    expect(await runJob(t.deps, alerts.job, payload, FIRST)).toBe('completed');
    expect(heard).toEqual([`${invalid}:invalid:client.config_invalid`]);
    const plain = defineSubscriber({ name: 'test-plain', events: ['client.config_invalid'], ordered: false, handle: async () => undefined });
    await expect(runJob(t.deps, plain.job, payload, FIRST)).rejects.toThrow(/configuration is invalid/);
  });

  it("another client sees none of them (row-level security), and its own sequence starts apart", async () => {
    expect((await eventsOf(t.deps.tenancy, a)).length).toBeGreaterThan(5);
    // As client b, without a WHERE: only b's rows are visible.
    const visible = await t.deps.tenancy.withTenant(b, (tx) => tx.select().from(domainEvents));
    expect(visible.filter((e) => e.clientId !== b)).toEqual([]);
    // b's first event gets seq 1 whatever a has emitted.
    await t.deps.tenancy.withTenant(b, (tx) => t.deps.events.emit(tx, b, 'integration.recovered', { capability: 'sms', provider: 'twilio' }, { key: 'first' }));
    expect((await eventsOf(t.deps.tenancy, b)).map((e) => e.seq)).toEqual([1]);
    // A tenant transaction cannot write an event for another client.
    await expect(t.deps.tenancy.withTenant(b, (tx) => t.deps.events.emit(tx, a, 'integration.recovered', { capability: 'sms', provider: 'twilio' }, { key: 'forged' }))).rejects.toThrow();
  });

  it('an outbox whose catalogue was never registered refuses to emit (no event nobody would hear)', async () => {
    const unrouted = createOutbox(noQueue);
    await expect(
      t.deps.tenancy.withTenant(a, (tx) => unrouted.emit(tx, a, 'integration.recovered', { capability: 'sms', provider: 'twilio' }, { key: uniqueId('unrouted') })),
    ).rejects.toThrow(/before the job catalogue is registered/);
  });

  it('a payload outside the catalogue fails the cause instead of being stored', async () => {
    await expect(
      t.deps.tenancy.withTenant(a, (tx) => t.deps.events.emit(tx, a, 'call.started', { call_id: '' } as never, { key: uniqueId('bad') })),
    ).rejects.toThrow();
  });

  it('an in-process listener hears a client\'s new events in order, and only that client\'s', async () => {
    const heard: DomainEvent[] = [];
    const from = Math.max(0, ...(await eventsOf(t.deps.tenancy, a)).map((e) => e.seq));
    const stop = t.deps.eventFeed.listen(a, from, (events) => heard.push(...events));
    try {
      for (const n of [1, 2, 3]) {
        await t.deps.tenancy.withTenant(a, (tx) => t.deps.events.emit(tx, a, 'integration.recovered', { capability: 'calendar', provider: `p${n}` }, { key: uniqueId('feed') }));
      }
      await t.deps.tenancy.withTenant(b, (tx) => t.deps.events.emit(tx, b, 'integration.recovered', { capability: 'calendar', provider: 'other' }, { key: uniqueId('feed') }));
      await until(async () => heard.length >= 3, 10_000, 'the feed');
      expect(heard.map((e) => (e.payload as { provider: string }).provider)).toEqual(['p1', 'p2', 'p3']);
      expect(heard.every((e) => e.client_id === a)).toBe(true);
    } finally {
      stop();
    }
  });
});
