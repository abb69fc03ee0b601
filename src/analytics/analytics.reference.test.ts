import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { appointments, calls, functionCalls, messages } from '../platform/db/schema.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { NO_ANSWER_REASONS, type CallOutcome } from './call-outcome.ts';

/**
 * The analytics SQL (one pass into UTC slices, then local time) against a plain
 * per-call computation in TypeScript, over generated calls in zones whose offset is not a whole
 * hour or changes inside the period, with calls on every edge: the period's bounds, slice bounds,
 * local midnight, Monday, and the hour New York repeats when it leaves daylight saving time.
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
      disconnectionReason: rnd.pick([null, 'user_hangup', 'agent_hangup', 'user_hangup', 'voicemail_reached', 'dial_no_answer', 'dial_busy', 'user_declined', 'call_transfer']),
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
    }
  });
  afterAll(() => t.close());

  it.each(clients.flatMap(({ id, timezone }) => (['day', 'week'] as const).map((bucket) => ({ id, timezone, bucket }))))(
    '$timezone by $bucket',
    async ({ id, timezone, bucket }) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/clients/${id}/analytics?from=${FROM_DAY}&to=${TO_DAY}&bucket=${bucket}`,
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<Record<string, unknown> & { from: string; to: string }>();
      const fixture = fixtures.get(id);
      if (!fixture) throw new Error(`no fixture for ${id}`);
      const expected = expectedAnalytics(fixture, timezone, bucket, new Date(body.from), new Date(body.to));
      // Every client uses the call ids call_0…: another client's evidence must not count here.
      expect(Object.fromEntries(Object.keys(expected).map((key) => [key, body[key]]))).toEqual(expected);
      expect(expected.totals.calls).toBeGreaterThan(CALLS_PER_CLIENT / 2);
    },
  );
});
