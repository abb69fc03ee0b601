import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, customers, functionCalls, messages } from '../platform/db/schema.ts';
import { agentFor, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

/** A slot's start as the agent says it, in the test client's timezone (the one format of templates.ts). */
const spokenAt = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toFormat("cccc, LLLL d 'at' h:mm a");
const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));

describe('POST /api/webhooks/retell/:clientId/functions/:name', () => {
  let t: TestApp;
  const a = uniqueId('fn-a');
  const b = uniqueId('fn-b');
  const noBooking = uniqueId('fn-nobook');
  const branded = uniqueId('fn-brand');
  const caller = '+14155550142';

  const fn = (clientId: string, name: string, args: unknown, callId = `call_${name}_${Math.random().toString(36).slice(2)}`, extra: Record<string, unknown> = {}) =>
    postSigned(t.app, clientId, { name, args, call: { call_id: callId, agent_id: agentFor(clientId), from_number: caller, to_number: '+14155550100', call_status: 'ongoing', ...extra } }, { path: `/api/webhooks/retell/${clientId}/functions/${name}` });

  const clientConfig = (id: string, overrides: Record<string, unknown> = {}) =>
    testClientConfig(id, {
      business_hours: ALWAYS_OPEN,
      calendar: { provider: 'internal', appointment_minutes: 30, min_notice_minutes: 0, horizon_days: 7 },
      sms: { enabled: true, provider: 'text180', auth_key: 'text180-test-key', account_id: '1', short_code: '55512', keyword: 'KW' },
      email: { enabled: true, provider: 'sendgrid', api_key: 'SG.test-key-123456', from: 'Biz <biz@example.com>' },
      notifications: { business_email: 'owner@example.com' },
      business: { address: '1 Main St', services: ['tax returns'], faqs: [{ question: 'Parking?', answer: 'Free parking behind the office.' }], links: { upload_page: 'https://example.com/upload' } },
      functions: [
        { kind: 'static', name: 'parking', description: 'Parking info', response: 'Parking at {{business_name}} is free, {{name}}.' },
        { kind: 'builtin', name: 'get_business_info', enabled: true },
      ],
      ...overrides,
    });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, clientConfig(a));
    writeClientFile(dir, clientConfig(b));
    writeClientFile(dir, clientConfig(branded, { branding: { display_name: 'Bright Smile' } }));
    writeClientFile(dir, clientConfig(noBooking, { features: { booking: false }, functions: [{ kind: 'builtin', name: 'take_message', enabled: false }] }));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('check_availability answers speakable slots and the same slots as ISO data with the client offset', async () => {
    const res = await fn(a, 'check_availability', { days_ahead: 2, time_of_day: 'any' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.result).toMatch(/^I have .+\. Which works best\?$/);
    expect(body.slots.length).toBeGreaterThan(0);
    for (const slot of body.slots) {
      expect(slot.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[-+]\d{2}:\d{2}$/);
      expect(typeof slot.spoken).toBe('string');
    }
  });

  it.each([
    ['check_availability', { days_ahead: 'lots' }, /days ahead/],
    ['check_availability', { date: 'next tuesday' }, /date/],
    ['book_appointment', { start: '2030-01-01T10:00:00Z' }, /name/],
    ['book_appointment', { name: 'Jane', start: 'soon' }, /start/],
    ['book_appointment', { name: 'Jane', start: 'not a real time at all', phone: '12' }, /./],
    ['find_appointment', { phone: 42 }, /phone/],
    ['reschedule_appointment', { appointment_id: 'x' }, /new start/],
    ['cancel_appointment', { appointment_id: 'not-a-uuid' }, /appointment id/],
    ['get_business_info', { topic: 'weather' }, /topic/],
    ['take_message', { name: 'Pat' }, /phone|message/],
    ['send_sms_link', {}, /kind/],
  ])('%s with bad arguments %j answers 200 with a speakable error', async (name, args, mentions) => {
    const res = await fn(a, name, args);
    expect(res.statusCode).toBe(200);
    expect(res.json().error).toMatch(/^invalid_/);
    expect(res.json().result).toMatch(mentions);
    expect(res.json().result).toMatch(/^Sorry|^I couldn't|^I didn't|^I'm sorry/);
  });

  it('book_appointment books once even when Retell calls twice, stores customer and appointment, queues one confirmation', async () => {
    const slots = (await fn(a, 'check_availability', { days_ahead: 3 })).json().slots;
    const start = slots[1].start as string;
    const callId = `call_book_${uniqueId('x')}`;
    const [first, second] = await Promise.all([
      fn(a, 'book_appointment', { name: 'Jane Roe', start, email: 'jane@example.com' }, callId),
      fn(a, 'book_appointment', { name: 'Jane Roe', start, email: 'jane@example.com' }, callId),
    ]);
    expect(first.json()).toMatchObject({ booked: true });
    // The agent says the time, and the text shows it, as every template does ("Tuesday, March 3 at 10:00 AM").
    expect(first.json().result).toContain(`You're all set for ${spokenAt(start)}.`);
    expect(second.json()).toMatchObject({ booked: true, appointment_id: first.json().appointment_id });
    const rows = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(appointments).where(eq(appointments.callId, callId)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ customerName: 'Jane Roe', customerPhone: caller, status: 'booked' });
    const sms = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(messages).where(and(eq(messages.callId, callId), eq(messages.channel, 'sms'))));
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ kind: 'confirmation', status: 'sandbox', toAddress: caller });
    expect(sms[0]?.body).toContain(spokenAt(start));
    const [customer] = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(customers).where(eq(customers.phone, caller)));
    expect(customer).toMatchObject({ name: 'Jane Roe', email: 'jane@example.com' });
  });

  it("the texts a call sends name the business as its messages after the call do: branding's display name", async () => {
    const slots = (await fn(branded, 'check_availability', { days_ahead: 3 })).json().slots;
    const callId = `call_brand_${uniqueId('x')}`;
    expect((await fn(branded, 'book_appointment', { name: 'Jane Roe', start: slots[0].start }, callId)).json()).toMatchObject({ booked: true });
    expect((await fn(branded, 'send_sms_link', { kind: 'upload_page' }, callId)).json()).toMatchObject({ sent: true });
    const sms = await t.deps.tenancy.withTenant(branded, (tx) => tx.select().from(messages).where(and(eq(messages.callId, callId), eq(messages.channel, 'sms'))));
    expect(sms.map((m) => m.kind).sort()).toEqual(['confirmation', 'link']);
    for (const message of sms) {
      expect(message.body).toContain('Bright Smile');
      expect(message.body).not.toContain(`Test Client ${branded}`);
    }
  });

  it('a slot taken meanwhile gets a speakable alternative', async () => {
    const slots = (await fn(a, 'check_availability', { days_ahead: 3 })).json().slots;
    const start = slots[2].start as string;
    expect((await fn(a, 'book_appointment', { name: 'First Caller', start, phone: '+14155550111' })).json().booked).toBe(true);
    const res = await fn(a, 'book_appointment', { name: 'Second Caller', start, phone: '+14155550122' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ booked: false, reason: 'slot_taken' });
    expect(res.json().result).toMatch(/just taken\. I can offer /);
    expect(res.json().slots.length).toBeGreaterThan(0);
  });

  it('book_appointment with a local time without offset reads it in the client timezone', async () => {
    const slots = (await fn(a, 'check_availability', { days_ahead: 4 })).json().slots;
    const local = DateTime.fromISO(slots.at(-1).start).setZone('America/New_York').toFormat("yyyy-LL-dd'T'HH:mm:ss");
    const res = await fn(a, 'book_appointment', { name: 'Local Time', start: local, phone: '+14155550133' });
    expect(res.json()).toMatchObject({ booked: true });
    expect(DateTime.fromISO(res.json().start).toMillis()).toBe(DateTime.fromISO(slots.at(-1).start).toMillis());
    expect(res.json().result).toContain(spokenAt(slots.at(-1).start));
  });

  it('find, reschedule and cancel by the caller number', async () => {
    const phone = '+14155550177';
    const slots = (await fn(a, 'check_availability', { days_ahead: 5 })).json().slots;
    await fn(a, 'book_appointment', { name: 'Mover', start: slots[3].start, phone });
    const found = await fn(a, 'find_appointment', {}, undefined, { from_number: phone });
    expect(found.json()).toMatchObject({ found: true });
    const moved = await fn(a, 'reschedule_appointment', { new_start: slots[4].start }, undefined, { from_number: phone });
    expect(moved.json()).toMatchObject({ rescheduled: true, start: slots[4].start });
    const cancelled = await fn(a, 'cancel_appointment', {}, undefined, { from_number: phone });
    expect(cancelled.json()).toMatchObject({ cancelled: true });
    const none = await fn(a, 'find_appointment', {}, undefined, { from_number: phone });
    expect(none.json()).toMatchObject({ found: false });
    expect(none.json().result).toMatch(/don't see an upcoming appointment/);
  });

  it('get_business_info, take_message, send_sms_link and a static custom function', async () => {
    const info = await fn(a, 'get_business_info', { topic: 'address' });
    expect(info.json().result).toBe("We're at 1 Main St.");
    const hours = await fn(a, 'get_business_info', { topic: 'hours' });
    expect(hours.json().result).toMatch(/open Monday to Sunday 12 AM to midnight/);
    const callId = `call_msg_${uniqueId('m')}`;
    const msg = await fn(a, 'take_message', { name: 'Pat', phone: '415 555 0199', message: 'Call me about my refund', urgency: 'urgent' }, callId);
    expect(msg.json()).toMatchObject({ taken: true });
    await fn(a, 'take_message', { name: 'Pat', phone: '415 555 0199', message: 'Call me about my refund', urgency: 'urgent' }, callId);
    const stored = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(messages).where(and(eq(messages.callId, callId), eq(messages.kind, 'message_taken'))));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ toAddress: 'owner@example.com', channel: 'email' });
    expect(stored[0]?.body).toContain('Call me about my refund');
    const link = await fn(a, 'send_sms_link', { kind: 'upload_page' });
    expect(link.json()).toMatchObject({ sent: true });
    const unknownLink = await fn(a, 'send_sms_link', { kind: 'nope' });
    expect(unknownLink.json()).toMatchObject({ error: 'unknown_link' });
    const custom = await fn(a, 'parking', { name: 'Sam' });
    expect(custom.json().result).toBe(`Parking at Test Client ${a} is free, Sam.`);
  });

  it('accepts the args_at_root form (body is only the arguments)', async () => {
    const res = await postSigned(t.app, a, { topic: 'services' }, { path: `/api/webhooks/retell/${a}/functions/get_business_info` });
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toBe('We offer tax returns.');
  });

  it('unknown or disabled functions are 404; a bad signature is 401; invalid JSON is a speakable 200', async () => {
    expect((await fn(a, 'no_such_function', {})).statusCode).toBe(404);
    expect((await fn(noBooking, 'book_appointment', { name: 'x', start: '2030-01-01T10:00:00Z' })).statusCode).toBe(404);
    expect((await fn(noBooking, 'take_message', { name: 'x', phone: '1', message: 'y' })).statusCode).toBe(404);
    const unsigned = await postSigned(t.app, a, { name: 'get_business_info', args: {} }, { path: `/api/webhooks/retell/${a}/functions/get_business_info`, signature: null });
    expect(unsigned.statusCode).toBe(401);
    const garbage = await postSigned(t.app, a, '{"args": ', { path: `/api/webhooks/retell/${a}/functions/get_business_info` });
    expect(garbage.statusCode).toBe(200);
    expect(garbage.json()).toMatchObject({ error: 'invalid_request' });
  });

  it("cross-client: A's endpoint never touches B's calendar, customers or appointments", async () => {
    const slotsB = (await fn(b, 'check_availability', { days_ahead: 3 })).json().slots;
    const start = slotsB[0].start as string;
    // Signed with A's key but naming B's agent: refused without side effects.
    const crossAgent = await fn(a, 'book_appointment', { name: 'Intruder', start, phone: '+14155550188' }, 'call_cross', { agent_id: agentFor(b) });
    expect(crossAgent.json()).toMatchObject({ error: 'agent_not_owned' });
    // B's URL with A's signature: 401.
    const crossKey = await postSigned(t.app, b, { name: 'book_appointment', args: { name: 'Intruder', start }, call: { call_id: 'call_cross2', agent_id: agentFor(b) } }, { path: `/api/webhooks/retell/${b}/functions/book_appointment`, key: `key_test_${a.replaceAll('-', '_')}_secret` });
    expect(crossKey.statusCode).toBe(401);
    // A booking in A at B's slot time lands in A only.
    await fn(a, 'book_appointment', { name: 'A Caller', start, phone: '+14155550155' }, 'call_a_only');
    const inB = await t.deps.tenancy.withTenant(b, (tx) => tx.select().from(appointments));
    expect(inB.filter((r) => r.customerName === 'A Caller' || r.customerName === 'Intruder')).toHaveLength(0);
    const customersB = await t.deps.tenancy.withTenant(b, (tx) => tx.select().from(customers).where(eq(customers.phone, '+14155550155')));
    expect(customersB).toHaveLength(0);
    // B can still book that slot: A's booking did not take B's calendar time.
    expect((await fn(b, 'book_appointment', { name: 'B Caller', start, phone: '+14155550166' })).json()).toMatchObject({ booked: true });
  });

  it('records every invocation in function_calls without secrets', async () => {
    const callId = `call_rec_${uniqueId('r')}`;
    await fn(a, 'parking', { name: 'Sam', api_key: 'do-not-store-me' }, callId);
    // Recorded right after the reply, without holding it up: poll briefly.
    let rows: (typeof functionCalls.$inferSelect)[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(functionCalls).where(eq(functionCalls.callId, callId)));
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'parking', outcome: 'ok' });
    expect(JSON.stringify(rows[0]?.args)).not.toContain('do-not-store-me');
    expect(rows[0]?.latencyMs).toBeGreaterThanOrEqual(0);
  });
});
