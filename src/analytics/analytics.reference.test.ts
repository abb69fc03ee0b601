import { and, eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { VOICEMAIL_REASON } from '../calls/call-connection.ts';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { appointments, calls, functionCalls, messages } from '../platform/db/schema.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { NO_ANSWER_REASONS, type CallOutcome } from './call-outcome.ts';

/**
 * The analytics figures (rollups kept by migration 0019's triggers, plus stored rows for the
 * period's partial quarter-hours, moved into local time) against a plain per-call computation in
 * TypeScript, over generated calls in zones whose offset is not a whole hour or changes inside the
 * period, with calls on every edge: the period's bounds, slice bounds, local midnight, Monday, and
 * the hour New York repeats when it leaves daylight saving time. After the first insert the rows
 * change as events would change them (late and out-of-order call events, redelivered duplicates,
 * late bookings and taken messages, cancellations and rebookings, message delivery updates,
 * deleted rows), and the rollups must then equal both the computation and a rebuild from scratch.
 */

const ZONES = [
  'America/New_York', // UTC-4 → UTC-5 on 2026-11-01 (01:00-02:00 happens twice)
  'Asia/Kathmandu', // UTC+5:45
  'Australia/Lord_Howe', // UTC+10:30 → UTC+11 on 2026-10-04 (a half-hour shift)
  'Pacific/Chatham', // UTC+12:45 → UTC+13:45 on 2026-09-27
] as const;
const FROM_DAY = '2026-09-21';
const TO_DAY = '2026-11-04';
const CALLS_PER_CLIENT = 400;
/** Every reason the outcome rule names gets a call, so the SQL copy of the rule cannot drift. */
const NAMED_REASONS = [...NO_ANSWER_REASONS, VOICEMAIL_REASON];

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T, chance: (p: number) => next() < p };
}

type CallRow = typeof calls.$inferInsert;
type AppointmentRow = typeof appointments.$inferInsert;
type MessageRow = typeof messages.$inferInsert;
type FunctionCallRow = typeof functionCalls.$inferInsert;

interface Fixture {
  calls: CallRow[];
  appointments: AppointmentRow[];
  messages: MessageRow[];
  functionCalls: FunctionCallRow[];
}

function generate(clientId: string, timezone: string, seed: number): Fixture {
  const rnd = random(seed);
  const local = (iso: string) => DateTime.fromISO(iso, { zone: timezone });
  const periodFrom = local(FROM_DAY).startOf('day');
  const periodTo = local(TO_DAY).plus({ days: 1 }).startOf('day');
  const ms = (dt: DateTime) => dt.toMillis();
  // Instants on the edges, then random ones from a day before the period to a day after it.
  const edges = [
    ms(periodFrom),
    ms(periodFrom) - 1,
    ms(periodTo),
    ms(periodTo) - 1,
    ms(local('2026-10-05').startOf('day')), // a Monday, local midnight
    ms(local('2026-10-05').startOf('day')) - 1,
    Date.parse('2026-10-10T12:15:00Z'), // a slice boundary, and either side of it
    Date.parse('2026-10-10T12:14:59.999Z'),
    Date.parse('2026-10-10T12:30:00.001Z'),
    Date.parse('2026-11-01T05:30:00Z'), // 01:30 EDT in New York
    Date.parse('2026-11-01T06:30:00Z'), // 01:30 EST, the same local hour again
    Date.parse('2026-10-03T15:45:00Z'), // Lord Howe's and Chatham's last pre-DST day, evening UTC
    Date.parse('2026-09-26T14:14:00Z'),
  ];
  const start = ms(periodFrom) - 86_400_000;
  const span = ms(periodTo) + 86_400_000 - start;
  const instants = [...edges, ...Array.from({ length: CALLS_PER_CLIENT - edges.length }, () => start + Math.floor(rnd.next() * span))];

  const fixture: Fixture = { calls: [], appointments: [], messages: [], functionCalls: [] };
  const sometime = () => new Date(start + Math.floor(rnd.next() * span));
  for (const [i, at] of instants.entries()) {
    const callId = `call_${i}`;
    const noStart = rnd.chance(0.1);
    fixture.calls.push({
      clientId,
      callId,
      // Without started_at, a call sorts (and counts) by created_at.
      startedAt: noStart ? null : new Date(at),
      createdAt: noStart ? new Date(at) : new Date(at + Math.floor(rnd.next() * 3_600_000)),
      durationMs: rnd.pick([null, 0, 0, 1, 45_000, 120_000, 90_500, 600_000]),
      sentiment: rnd.pick([null, 'Positive', 'positive', 'NEGATIVE', 'Negative', 'Neutral', 'Unknown', 'mixed']),
      disconnectionReason: NAMED_REASONS[i] ?? rnd.pick([null, 'user_hangup', 'agent_hangup', 'user_hangup', 'voicemail_reached', 'dial_no_answer', 'dial_busy', 'user_declined', 'call_transfer']),
      status: rnd.pick([null, 'ended', 'ended', 'ended', 'not_connected', 'error']),
      analysis: rnd.pick([null, { call_summary: 'Asked about prices' }, { in_voicemail: true }, { in_voicemail: 'true' }, { in_voicemail: false }]),
    });
    if (rnd.chance(0.2)) {
      fixture.appointments.push({
        clientId,
        callId,
        startsAt: new Date(Date.parse('2027-01-01T00:00:00Z') + i * 1_800_000),
        endsAt: new Date(Date.parse('2027-01-01T00:30:00Z') + i * 1_800_000),
        status: rnd.pick(['booked', 'booked', 'cancelled']),
        provider: 'internal',
        idempotencyKey: `appt-${i}`,
        createdAt: sometime(),
      });
    }
    if (rnd.chance(0.25)) {
      const channel = rnd.pick(['sms', 'email']);
      fixture.messages.push({
        clientId,
        callId: rnd.chance(0.9) ? callId : null,
        channel,
        kind: rnd.pick(['message_taken', 'confirmation', 'followup']),
        idempotencyKey: `msg-${i}`,
        provider: channel === 'sms' ? 'twilio' : 'sendgrid',
        toAddress: channel === 'sms' ? '+14155550142' : 'desk@example.com',
        body: 'text',
        status: rnd.pick(['delivered', 'sent', 'failed', 'pending']),
        createdAt: sometime(),
      });
    }
    for (let n = rnd.pick([0, 0, 1, 2]); n > 0; n--) {
      fixture.functionCalls.push({
        clientId,
        callId: rnd.chance(0.9) ? callId : null,
        name: rnd.pick(['take_message', 'book_appointment', 'check_availability', 'lookup_customer']),
        outcome: rnd.pick(['ok', 'ok', 'error']),
        latencyMs: 50,
        createdAt: sometime(),
      });
    }
  }
  return fixture;
}

/**
 * Changes the stored rows the way events change them, and the fixture alike: call events late or
 * out of order (a start time that arrives later, an analysis that changes sentiment or finds
 * voicemail), redeliveries that change nothing, bookings and taken messages after the call,
 * cancellations and rebookings, message delivery updates, and deleted rows.
 */
async function mutate(tx: Tx, clientId: string, fixture: Fixture, seed: number): Promise<void> {
  const rnd = random(seed);
  const byCall = (callId: string) => and(eq(calls.clientId, clientId), eq(calls.callId, callId));
  for (const call of fixture.calls.filter(() => rnd.chance(0.15))) {
    const change: Partial<CallRow> = rnd.pick([
      { startedAt: new Date((call.startedAt ?? call.createdAt ?? new Date()).getTime() + rnd.pick([-1, 1]) * 2_400_000) },
      { durationMs: rnd.pick([0, 33_000, 480_000]) },
      { sentiment: rnd.pick(['Positive', 'negative', null]) },
      { disconnectionReason: rnd.pick(['voicemail_reached', 'user_hangup', 'dial_busy']), status: 'ended' },
      { analysis: { in_voicemail: rnd.chance(0.5) } },
      { status: 'not_connected' },
    ]);
    Object.assign(call, change);
    await tx.update(calls).set(change).where(byCall(call.callId));
    // A redelivery writes the same values again.
    if (rnd.chance(0.5)) await tx.update(calls).set(change).where(byCall(call.callId));
  }
  for (const appointment of fixture.appointments.filter(() => rnd.chance(0.3))) {
    const status = appointment.status === 'booked' ? 'cancelled' : 'booked';
    appointment.status = status;
    await tx
      .update(appointments)
      .set({ status })
      .where(and(eq(appointments.clientId, clientId), eq(appointments.idempotencyKey, appointment.idempotencyKey)));
  }
  for (const message of fixture.messages.filter(() => rnd.chance(0.5))) {
    const status = rnd.pick(['delivered', 'failed', 'sent']);
    message.status = status;
    const byKey = and(eq(messages.clientId, clientId), eq(messages.idempotencyKey, message.idempotencyKey));
    await tx.update(messages).set({ status }).where(byKey);
    if (rnd.chance(0.3)) await tx.update(messages).set({ status }).where(byKey);
  }
  const late = { appointments: [] as AppointmentRow[], messages: [] as MessageRow[], functionCalls: [] as FunctionCallRow[] };
  for (const [i, call] of fixture.calls.entries()) {
    if (rnd.chance(0.05)) {
      late.appointments.push({
        clientId,
        callId: call.callId,
        startsAt: new Date(Date.parse('2027-06-01T00:00:00Z') + i * 1_800_000),
        endsAt: new Date(Date.parse('2027-06-01T00:30:00Z') + i * 1_800_000),
        status: 'booked',
        provider: 'internal',
        idempotencyKey: `late-appt-${i}`,
        createdAt: new Date((call.startedAt ?? call.createdAt ?? new Date()).getTime() + 60_000),
      });
    }
    if (rnd.chance(0.05)) {
      late.messages.push({
        clientId,
        callId: call.callId,
        channel: 'email',
        kind: 'message_taken',
        idempotencyKey: `late-msg-${i}`,
        provider: 'sendgrid',
        toAddress: 'desk@example.com',
        body: 'text',
        status: 'pending',
        createdAt: new Date((call.startedAt ?? call.createdAt ?? new Date()).getTime() + 90_000),
      });
    }
    if (rnd.chance(0.05)) {
      late.functionCalls.push({ clientId, callId: call.callId, name: 'take_message', outcome: 'ok', latencyMs: 40, createdAt: call.startedAt ?? call.createdAt ?? new Date() });
    }
  }
  if (late.appointments.length > 0) {
    await tx.insert(appointments).values(late.appointments);
    // A retried booking job inserts the same appointment again: the idempotency key keeps one.
    await tx.insert(appointments).values(late.appointments).onConflictDoNothing();
    fixture.appointments.push(...late.appointments);
  }
  if (late.messages.length > 0) {
    await tx.insert(messages).values(late.messages);
    await tx.insert(messages).values(late.messages).onConflictDoNothing();
    fixture.messages.push(...late.messages);
  }
  if (late.functionCalls.length > 0) {
    await tx.insert(functionCalls).values(late.functionCalls);
    fixture.functionCalls.push(...late.functionCalls);
  }
  // Deleted rows: a released reservation, a removed message, a removed call.
  for (const list of ['appointments', 'messages'] as const) {
    const row = fixture[list][Math.floor(rnd.next() * fixture[list].length)];
    if (!row) continue;
    const table = list === 'appointments' ? appointments : messages;
    await tx.delete(table).where(and(eq(table.clientId, clientId), eq(table.idempotencyKey, row.idempotencyKey)));
    fixture[list].splice(fixture[list].indexOf(row as never), 1);
  }
  const gone = fixture.calls.splice(fixture.calls.length - 1, 1)[0];
  if (gone) await tx.delete(calls).where(byCall(gone.callId));
}

/** The rollup rows of a client that count something, in a stable order. */
async function rollupRows(tx: Tx, clientId: string) {
  return {
    calls: await sqlRows(tx, sql`select * from analytics_rollups where client_id = ${clientId} and (calls <> 0 or appointments_booked <> 0) order by slice`),
    entries: await sqlRows(tx, sql`select * from analytics_call_entries where client_id = ${clientId} order by call_id`),
    messages: await sqlRows(tx, sql`select * from analytics_message_rollups where client_id = ${clientId} and n <> 0 order by slice, channel, status`),
    functions: await sqlRows(tx, sql`select * from analytics_function_rollups where client_id = ${clientId} and total <> 0 order by slice, name`),
  };
}

/** The rule of call-outcome.ts, call by call. */
function outcomeOf(call: CallRow, fixture: Fixture): CallOutcome {
  if (fixture.appointments.some((a) => a.callId === call.callId)) return 'booked';
  const tookMessage =
    fixture.messages.some((m) => m.callId === call.callId && m.kind === 'message_taken') ||
    fixture.functionCalls.some((f) => f.callId === call.callId && f.name === 'take_message' && f.outcome === 'ok');
  if (tookMessage) return 'message';
  const inVoicemail = (call.analysis as { in_voicemail?: unknown } | null)?.in_voicemail;
  if (call.disconnectionReason === 'voicemail_reached' || String(inVoicemail) === 'true') return 'voicemail';
  if (call.status === 'not_connected' || (NO_ANSWER_REASONS as readonly (string | null | undefined)[]).includes(call.disconnectionReason)) return 'no_answer';
  return 'other';
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

function expectedAnalytics(fixture: Fixture, timezone: string, bucket: 'day' | 'week', from: Date, to: Date) {
  const inPeriod = (at: Date | null | undefined) => !!at && at.getTime() >= from.getTime() && at.getTime() < to.getTime();
  const series = new Map<string, { bucket_start: string; calls: number; connected: number; total_duration_ms: number; booked_calls: number }>();
  const hours = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  const outcomes = { booked: 0, message: 0, voicemail: 0, no_answer: 0, other: 0 };
  const sentiment = { positive: 0, negative: 0, neutral: 0, unknown: 0 };
  let [count, connected, totalDuration, withDuration] = [0, 0, 0, 0];
  for (const call of fixture.calls) {
    const at = call.startedAt ?? call.createdAt;
    if (!at || !inPeriod(at)) continue;
    const local = DateTime.fromJSDate(at, { zone: timezone });
    const outcome = outcomeOf(call, fixture);
    const duration = call.durationMs ?? 0;
    const isConnected = duration > 0 && outcome !== 'no_answer' && outcome !== 'voicemail';
    count += 1;
    connected += isConnected ? 1 : 0;
    totalDuration += duration;
    withDuration += duration > 0 ? 1 : 0;
    outcomes[outcome] += 1;
    const mood = call.sentiment?.toLowerCase();
    sentiment[mood === 'positive' || mood === 'negative' || mood === 'neutral' ? mood : 'unknown'] += 1;
    const day = hours[local.weekday - 1];
    if (day) day[local.hour] = (day[local.hour] ?? 0) + 1;
    const start = (bucket === 'week' ? local.startOf('week') : local.startOf('day')).toISODate() ?? '';
    const entry = series.get(start) ?? { bucket_start: start, calls: 0, connected: 0, total_duration_ms: 0, booked_calls: 0 };
    entry.calls += 1;
    entry.connected += isConnected ? 1 : 0;
    entry.total_duration_ms += duration;
    entry.booked_calls += outcome === 'booked' ? 1 : 0;
    series.set(start, entry);
  }

  const delivery: { sms: Record<string, number>; email: Record<string, number> } = { sms: {}, email: {} };
  for (const m of fixture.messages) {
    if (!inPeriod(m.createdAt) || (m.channel !== 'sms' && m.channel !== 'email')) continue;
    delivery[m.channel][m.status] = (delivery[m.channel][m.status] ?? 0) + 1;
  }
  const byName = new Map<string, { name: string; total: number; failed: number }>();
  for (const f of fixture.functionCalls) {
    if (!inPeriod(f.createdAt)) continue;
    const entry = byName.get(f.name) ?? { name: f.name, total: 0, failed: 0 };
    entry.total += 1;
    entry.failed += f.outcome === 'ok' ? 0 : 1;
    byName.set(f.name, entry);
  }
  const functions = [...byName.values()].sort((a, b) => b.failed - a.failed || b.total - a.total || (a.name < b.name ? -1 : 1));

  return {
    totals: {
      calls: count,
      connected,
      total_duration_ms: totalDuration,
      average_duration_ms: withDuration > 0 ? Math.round(totalDuration / withDuration) : 0,
      booked_calls: outcomes.booked,
      appointments_booked: fixture.appointments.filter((a) => a.status === 'booked' && inPeriod(a.createdAt)).length,
      booking_conversion: ratio(outcomes.booked, connected),
    },
    series: [...series.values()].sort((a, b) => (a.bucket_start < b.bucket_start ? -1 : 1)),
    sentiment,
    outcomes,
    calls_by_hour_of_week: hours,
    messages: delivery,
    function_calls: {
      total: functions.reduce((sum, f) => sum + f.total, 0),
      failed: functions.reduce((sum, f) => sum + f.failed, 0),
      by_name: functions,
    },
  };
}

describe('analytics match a per-call computation', () => {
  let t: TestApp;
  let bearer: string;
  const clients = ZONES.map((timezone, i) => ({ id: uniqueId(`ref${i}`), timezone }));
  const fixtures = new Map<string, Fixture>();
  /** Each client's rollups as the triggers left them, before the rebuild test recomputes them. */
  const maintained = new Map<string, Awaited<ReturnType<typeof rollupRows>>>();

  beforeAll(async () => {
    const dir = tempDir('clients-');
    for (const { id, timezone } of clients) writeClientFile(dir, testClientConfig(id, { timezone }));
    t = await createTestApp({ clientsDir: dir });
    bearer = (await loginAs(t, 'platform_admin')).accessToken;
    for (const [i, { id, timezone }] of clients.entries()) {
      const fixture = generate(id, timezone, 1_000 + i);
      fixtures.set(id, fixture);
      await t.deps.tenancy.withTenant(id, async (tx) => {
        await tx.insert(calls).values(fixture.calls);
        if (fixture.appointments.length > 0) await tx.insert(appointments).values(fixture.appointments);
        if (fixture.messages.length > 0) await tx.insert(messages).values(fixture.messages);
        if (fixture.functionCalls.length > 0) await tx.insert(functionCalls).values(fixture.functionCalls);
      });
      await t.deps.tenancy.withTenant(id, (tx) => mutate(tx, id, fixture, 2_000 + i));
      maintained.set(id, await t.deps.tenancy.withTenant(id, (tx) => rollupRows(tx, id)));
    }
  });
  afterAll(() => t.close());

  const check = async (id: string, timezone: string, bucket: 'day' | 'week', from: string, to: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/clients/${id}/analytics?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&bucket=${bucket}`,
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, unknown> & { from: string; to: string }>();
    const fixture = fixtures.get(id);
    if (!fixture) throw new Error(`no fixture for ${id}`);
    const expected = expectedAnalytics(fixture, timezone, bucket, new Date(body.from), new Date(body.to));
    // Every client uses the call ids call_0…: another client's evidence must not count here.
    expect(Object.fromEntries(Object.keys(expected).map((key) => [key, body[key]]))).toEqual(expected);
    return expected;
  };

  it.each(clients.flatMap(({ id, timezone }) => (['day', 'week'] as const).map((bucket) => ({ id, timezone, bucket }))))(
    '$timezone by $bucket',
    async ({ id, timezone, bucket }) => {
      const expected = await check(id, timezone, bucket, FROM_DAY, TO_DAY);
      expect(expected.totals.calls).toBeGreaterThan(CALLS_PER_CLIENT / 2);
    },
  );

  // Bounds inside a quarter-hour: the partial slices at either edge come from the stored rows.
  it.each(clients)('$timezone between instants that cut quarter-hours', async ({ id, timezone }) => {
    const expected = await check(id, timezone, 'day', '2026-09-20T21:07:13.250Z', '2026-11-04T11:52:01.500Z');
    expect(expected.totals.calls).toBeGreaterThan(CALLS_PER_CLIENT / 2);
    await check(id, timezone, 'day', '2026-10-10T12:14:00Z', '2026-10-10T12:20:00Z');
  });

  it.each(clients)('$timezone: a rebuild from the stored rows finds the rollups the triggers kept', async ({ id }) => {
    const before = maintained.get(id);
    const after = await t.deps.tenancy.withTenant(id, async (tx) => {
      await tx.execute(sql`select analytics_rebuild(${id}::text)`);
      return rollupRows(tx, id);
    });
    expect(after.entries.length).toBeGreaterThan(CALLS_PER_CLIENT / 2);
    expect(after).toEqual(before);
  });
});
