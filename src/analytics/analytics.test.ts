import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { appointments, calls, functionCalls, messages } from '../platform/db/schema.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import type { CliIo } from '../clients/clients.cli.ts';
import { analyticsRebuild } from './analytics.cli.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

/**
 * A known week for a client in America/New_York (UTC-4 in May 2026; 2026-05-04 is a Monday).
 * Every expected figure below is worked out by hand from these rows.
 */
describe('GET /api/clients/:clientId/analytics', () => {
  let t: TestApp;
  let bearer: string;
  const client = uniqueId('stats');
  const neighbour = uniqueId('stats-other');
  const at = (iso: string) => new Date(iso);

  const get = (clientId: string, query: string) =>
    t.app.inject({ method: 'GET', url: `/api/clients/${clientId}/analytics?${query}`, headers: { authorization: `Bearer ${bearer}` } });

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(client));
    writeClientFile(dir, testClientConfig(neighbour));
    t = await createTestApp({ clientsDir: dir });
    bearer = (await loginAs(t, 'platform_admin')).accessToken;

    // o1 arrives through the real webhook: Saturday 16:00 local, 90 s, negative, other.
    const o1 = callEvent(client, 'call_analyzed', 'o1', {
      start_timestamp: Date.parse('2026-05-09T20:00:00Z'),
      end_timestamp: Date.parse('2026-05-09T20:01:30Z'),
      duration_ms: 90_000,
      disconnection_reason: 'user_hangup',
      call_analysis: { call_summary: 'Asked about prices', user_sentiment: 'Negative', call_successful: true },
    });
    expect((await postSigned(t.app, client, o1)).statusCode).toBe(204);

    await t.deps.tenancy.withTenant(client, async (tx) => {
      await tx.insert(calls).values(
        [
          // Monday 10:00 local, booked.
          { callId: 'b1', startedAt: at('2026-05-04T14:00:00Z'), durationMs: 120_000, disconnectionReason: 'user_hangup', sentiment: 'Positive' },
          // Monday 11:30, booked (its appointment was cancelled later: still a booking call).
          { callId: 'b2', startedAt: at('2026-05-04T15:30:00Z'), durationMs: 60_000, disconnectionReason: 'agent_hangup', sentiment: 'Positive' },
          // Tuesday 02:30 UTC is Monday 22:30 local: a message was taken.
          { callId: 'm1', startedAt: at('2026-05-05T02:30:00Z'), durationMs: 30_000, disconnectionReason: 'user_hangup', sentiment: 'Neutral' },
          // Wednesday 09:00 and 09:05: voicemail (20 s, not connected) and no answer.
          { callId: 'v1', startedAt: at('2026-05-06T13:00:00Z'), durationMs: 20_000, disconnectionReason: 'voicemail_reached', direction: 'outbound' },
          { callId: 'n1', startedAt: at('2026-05-06T13:05:00Z'), durationMs: 0, disconnectionReason: 'dial_no_answer', direction: 'outbound' },
          // Saturday 17:00: no duration (not connected), sentiment "Unknown".
          { callId: 'o2', startedAt: at('2026-05-09T21:00:00Z'), sentiment: 'Unknown' },
          // Outside the period: Sunday 23:00 before it, and Monday 01:00 after it (local).
          { callId: 'before', startedAt: at('2026-05-04T03:00:00Z'), durationMs: 50_000 },
          { callId: 'after', startedAt: at('2026-05-11T05:00:00Z'), durationMs: 50_000 },
        ].map((row) => ({ ...row, clientId: client })),
      );
      const slot = (iso: string, minutes = 30) => ({ startsAt: at(iso), endsAt: new Date(Date.parse(iso) + minutes * 60_000) });
      await tx.insert(appointments).values([
        { clientId: client, callId: 'b1', ...slot('2026-05-12T14:00:00Z'), status: 'booked', provider: 'internal', idempotencyKey: 'b1', createdAt: at('2026-05-04T14:01:00Z') },
        { clientId: client, callId: 'b2', ...slot('2026-05-12T15:00:00Z'), status: 'cancelled', provider: 'internal', idempotencyKey: 'b2', createdAt: at('2026-05-04T15:31:00Z') },
        { clientId: client, callId: 'before', ...slot('2026-05-12T16:00:00Z'), status: 'booked', provider: 'internal', idempotencyKey: 'x', createdAt: at('2026-05-04T03:01:00Z') },
      ]);
      const message = (key: string, channel: string, kind: string, status: string, createdAt: string, callId: string | null = null) => ({
        clientId: client,
        callId,
        channel,
        kind,
        idempotencyKey: key,
        provider: channel === 'sms' ? 'twilio' : 'sendgrid',
        toAddress: channel === 'sms' ? '+14155550142' : 'desk@example.com',
        body: 'text',
        status,
        createdAt: at(createdAt),
      });
      await tx.insert(messages).values([
        message('m1-taken', 'email', 'message_taken', 'sent', '2026-05-05T02:31:00Z', 'm1'),
        message('b1-confirm', 'sms', 'confirmation', 'delivered', '2026-05-04T14:02:00Z', 'b1'),
        message('b2-confirm', 'sms', 'confirmation', 'failed', '2026-05-06T10:00:00Z', 'b2'),
        message('old', 'sms', 'followup', 'delivered', '2026-05-01T10:00:00Z'),
      ]);
      const fn = (callId: string, name: string, outcome: string, createdAt: string) => ({
        clientId: client,
        callId,
        name,
        outcome,
        latencyMs: 50,
        createdAt: at(createdAt),
      });
      await tx.insert(functionCalls).values([
        fn('b1', 'book_appointment', 'ok', '2026-05-04T14:01:00Z'),
        fn('b2', 'book_appointment', 'ok', '2026-05-04T15:31:00Z'),
        fn('b2', 'book_appointment', 'error', '2026-05-04T15:30:30Z'),
        fn('b2', 'check_availability', 'error', '2026-05-04T15:30:10Z'),
        fn('before', 'check_availability', 'error', '2026-05-04T03:00:10Z'),
      ]);
    });
    // A neighbour with calls in the same week must not leak into the figures.
    await t.deps.tenancy.withTenant(neighbour, (tx) =>
      tx.insert(calls).values({ clientId: neighbour, callId: 'b1', startedAt: at('2026-05-05T14:00:00Z'), durationMs: 999_000 }),
    );
  });
  afterAll(() => t.close());

  it('computes every figure for the period in the client timezone', async () => {
    const res = await get(client, 'from=2026-05-04&to=2026-05-10&bucket=day');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      client_id: client,
      timezone: 'America/New_York',
      from: '2026-05-04T04:00:00.000Z',
      to: '2026-05-11T04:00:00.000Z',
      bucket: 'day',
      totals: {
        calls: 7,
        connected: 4,
        total_duration_ms: 320_000,
        average_duration_ms: 64_000,
        booked_calls: 2,
        appointments_booked: 1,
        booking_conversion: 0.5,
      },
      series: [
        { bucket_start: '2026-05-04', calls: 3, connected: 3, total_duration_ms: 210_000, booked_calls: 2 },
        { bucket_start: '2026-05-06', calls: 2, connected: 0, total_duration_ms: 20_000, booked_calls: 0 },
        { bucket_start: '2026-05-09', calls: 2, connected: 1, total_duration_ms: 90_000, booked_calls: 0 },
      ],
      sentiment: { positive: 2, negative: 1, neutral: 1, unknown: 3 },
      outcomes: { booked: 2, message: 1, voicemail: 1, no_answer: 1, other: 2 },
      messages: { sms: { delivered: 1, failed: 1 }, email: { sent: 1 } },
      function_calls: {
        total: 4,
        failed: 2,
        by_name: [
          { name: 'book_appointment', total: 3, failed: 1 },
          { name: 'check_availability', total: 1, failed: 1 },
        ],
      },
    });
    const hours: number[][] = body.calls_by_hour_of_week;
    const nonZero = hours.flatMap((day, d) => day.flatMap((n, h) => (n > 0 ? [[d, h, n]] : [])));
    // [weekday (0 = Monday), local hour, calls]
    expect(nonZero).toEqual([
      [0, 10, 1],
      [0, 11, 1],
      [0, 22, 1],
      [2, 9, 2],
      [5, 16, 1],
      [5, 17, 1],
    ]);
  });

  it('weekly buckets start on Monday, local time', async () => {
    const body = (await get(client, 'from=2026-05-04&to=2026-05-10&bucket=week')).json();
    expect(body.series).toEqual([{ bucket_start: '2026-05-04', calls: 7, connected: 4, total_duration_ms: 320_000, booked_calls: 2 }]);
  });

  it('an empty period is all zeros, not an error', async () => {
    const body = (await get(client, 'from=2025-01-01&to=2025-01-31')).json();
    expect(body.totals).toEqual({
      calls: 0,
      connected: 0,
      total_duration_ms: 0,
      average_duration_ms: 0,
      booked_calls: 0,
      appointments_booked: 0,
      booking_conversion: 0,
    });
    expect(body.series).toEqual([]);
    expect(body.outcomes).toEqual({ booked: 0, message: 0, voicemail: 0, no_answer: 0, other: 0 });
    expect(body.calls_by_hour_of_week.flat().every((n: number) => n === 0)).toBe(true);
  });

  it('the neighbour sees only its own call', async () => {
    const body = (await get(neighbour, 'from=2026-05-04&to=2026-05-10')).json();
    expect(body.totals).toMatchObject({ calls: 1, total_duration_ms: 999_000 });
  });

  it('a half-hour timezone puts each call in its local hour (Asia/Kolkata, UTC+5:30)', async () => {
    const india = uniqueId('stats-ist');
    writeClientFile(t.clientsDir, testClientConfig(india, { timezone: 'Asia/Kolkata' }));
    await t.deps.registry.reload();
    await t.deps.tenancy.withTenant(india, (tx) =>
      tx.insert(calls).values([
        { clientId: india, callId: 'k1', startedAt: at('2026-05-04T03:40:00Z') }, // Monday 09:10
        { clientId: india, callId: 'k2', startedAt: at('2026-05-04T04:25:00Z') }, // Monday 09:55
        { clientId: india, callId: 'k3', startedAt: at('2026-05-04T04:35:00Z') }, // Monday 10:05
        { clientId: india, callId: 'k4', startedAt: at('2026-05-03T18:29:00Z') }, // Sunday 23:59
      ]),
    );
    const body = (await get(india, 'from=2026-05-03&to=2026-05-04')).json();
    expect(body.calls_by_hour_of_week[0][9]).toBe(2);
    expect(body.calls_by_hour_of_week[0][10]).toBe(1);
    expect(body.calls_by_hour_of_week[6][23]).toBe(1);
    expect(body.series.map((s: { bucket_start: string; calls: number }) => [s.bucket_start, s.calls])).toEqual([
      ['2026-05-03', 1],
      ['2026-05-04', 3],
    ]);
  });

  it('redelivered and out-of-order webhooks leave every figure as it was', async () => {
    const before = (await get(client, 'from=2026-05-04&to=2026-05-10')).json();
    const analyzed = callEvent(client, 'call_analyzed', 'o1', {
      start_timestamp: Date.parse('2026-05-09T20:00:00Z'),
      end_timestamp: Date.parse('2026-05-09T20:01:30Z'),
      duration_ms: 90_000,
      disconnection_reason: 'user_hangup',
      call_analysis: { call_summary: 'Asked about prices', user_sentiment: 'Negative', call_successful: true },
    });
    // The same delivery twice more, then the earlier call_started and call_ended arriving late.
    expect((await postSigned(t.app, client, analyzed)).statusCode).toBe(204);
    expect((await postSigned(t.app, client, analyzed)).statusCode).toBe(204);
    const started = callEvent(client, 'call_started', 'o1', { start_timestamp: Date.parse('2026-05-09T20:00:00Z') });
    expect((await postSigned(t.app, client, started)).statusCode).toBe(204);
    const ended = callEvent(client, 'call_ended', 'o1', {
      start_timestamp: Date.parse('2026-05-09T20:00:00Z'),
      end_timestamp: Date.parse('2026-05-09T20:01:30Z'),
      duration_ms: 90_000,
      disconnection_reason: 'user_hangup',
    });
    expect((await postSigned(t.app, client, ended)).statusCode).toBe(204);
    expect((await postSigned(t.app, client, ended)).statusCode).toBe(204);
    const after = (await get(client, 'from=2026-05-04&to=2026-05-10')).json();
    expect(after).toEqual(before);
    expect(after.totals.calls).toBe(7);
  });

  it('`xlnc analytics rebuild --client` recomputes lost rollups from the stored rows', async () => {
    const before = (await get(client, 'from=2026-05-04&to=2026-05-10')).json();
    await t.deps.tenancy.withPlatform(async (tx) => {
      for (const table of ['analytics_rollups', 'analytics_call_entries', 'analytics_message_rollups', 'analytics_function_rollups']) {
        await tx.execute(sql`delete from ${sql.identifier(table)} where client_id = ${client}`);
      }
    });
    expect((await get(client, 'from=2026-05-04&to=2026-05-10')).json().totals.calls).toBe(0);
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env: {}, encryptionKeys: [] };
    expect(await analyticsRebuild(['--client', 'Not An Id'], io, { database: t.deps.database })).toBe(2);
    expect(await analyticsRebuild(['--client', client], io, { database: t.deps.database }), err.join('')).toBe(0);
    expect(out.join('')).toContain(`rebuilt for client ${client}`);
    expect((await get(client, 'from=2026-05-04&to=2026-05-10')).json()).toEqual(before);
  });

  it('rejects a reversed or too long period and an unknown bucket', async () => {
    expect((await get(client, 'from=2026-05-10&to=2026-05-01')).statusCode).toBe(400);
    expect((await get(client, 'from=2024-01-01&to=2026-01-01')).statusCode).toBe(400);
    const bad = await get(client, 'bucket=month');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('bucket');
  });
});
