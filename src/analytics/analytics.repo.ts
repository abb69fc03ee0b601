/**
 * Analytics aggregates, read from the rollups of migration 0019 (per client and UTC quarter-hour,
 * kept in step with every write by triggers) for the period's whole quarter-hours, and from the
 * stored rows themselves for the pieces of a quarter-hour at either edge (a period ending "now"
 * ends inside one). Both arrive as UTC quarter-hour slices; each slice is then moved into the
 * client's timezone (a quarter-hour never straddles a local hour: every zone's offset is a whole
 * number of quarter-hours) and rolled up into the totals, the day/week series and the
 * hour-of-week grid. The work so grows with the period's quarter-hours (at most 96 a day), not
 * with the client's calls, and the timezone is the client's at the time of reading.
 */
import { sql, type SQL } from 'drizzle-orm';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { callSortAt, outcomeCode, outcomeCodeSql, perRowEvidence } from './call-outcome.ts';

export interface AnalyticsPeriod {
  from: Date;
  to: Date;
  /** IANA zone the buckets and hours are local to. */
  timezone: string;
  bucket: 'day' | 'week';
}

/** The rollups' slice length (migration 0019's analytics_slice), milliseconds. */
export const ROLLUP_SLICE_MS = 15 * 60_000;

interface TimeRange {
  from: Date;
  to: Date;
}

/** Which part of a period the rollups answer (whole slices) and which the stored rows (the edges). */
export interface PeriodParts {
  rolled: TimeRange | null;
  raw: TimeRange[];
}

export function periodParts(period: Pick<AnalyticsPeriod, 'from' | 'to'>): PeriodParts {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const wholeFrom = Math.ceil(from / ROLLUP_SLICE_MS) * ROLLUP_SLICE_MS;
  const wholeTo = Math.floor(to / ROLLUP_SLICE_MS) * ROLLUP_SLICE_MS;
  if (wholeFrom >= wholeTo) return { rolled: null, raw: [{ from: period.from, to: period.to }] };
  const raw = [
    { from, to: wholeFrom },
    { from: wholeTo, to },
  ]
    .filter((range) => range.from < range.to)
    .map((range) => ({ from: new Date(range.from), to: new Date(range.to) }));
  return { rolled: { from: new Date(wholeFrom), to: new Date(wholeTo) }, raw };
}

/** `column` inside `range` (half-open), or false without a range. */
function within(column: SQL, ranges: readonly TimeRange[]): SQL {
  if (ranges.length === 0) return sql`false`;
  return sql`(${sql.join(
    ranges.map((range) => sql`(${column} >= ${range.from.toISOString()}::timestamptz and ${column} < ${range.to.toISOString()}::timestamptz)`),
    sql` or `,
  )})`;
}

/**
 * `select` once per range, as a UNION ALL: each arm is one index range scan, where an OR of the
 * two edge ranges made PostgreSQL read every row of the client (540 ms at 100,000 calls).
 */
function perRange(ranges: readonly TimeRange[], select: (range: readonly TimeRange[]) => SQL): SQL {
  if (ranges.length === 0) return select([]);
  return sql.join(
    ranges.map((range) => sql`(${select([range])})`),
    sql` union all `,
  );
}

const rolledSlices = (parts: PeriodParts) => (parts.rolled ? [parts.rolled] : []);

export interface CallAggregates {
  totals: {
    calls: number;
    connected: number;
    total_duration_ms: number;
    /** Calls with a duration above 0 ms (the average's denominator). */
    with_duration: number;
    booked_calls: number;
    sentiment: { positive: number; negative: number; neutral: number; unknown: number };
    outcomes: { booked: number; message: number; voicemail: number; no_answer: number; other: number };
  };
  series: { bucket_start: string; calls: number; connected: number; total_duration_ms: number; booked_calls: number }[] | null;
  /** [isodow 1-7, hour 0-23, calls] */
  hours: [number, number, number][] | null;
}

/**
 * Settings for this transaction's aggregates: JIT compilation, which a large period's cost
 * estimate can switch on, only ever made these queries slower when measured.
 */
export async function prepareAnalyticsTransaction(tx: Tx): Promise<void> {
  await tx.execute(sql`select set_config('jit', 'off', true)`);
}

/**
 * A call's sentiment as lower(sentiment) would classify it (migration 0019's
 * analytics_sentiment_code): 1 positive, 2 negative, 3 neutral, 0 anything else.
 */
const sentimentCode = sql`(case lower(c.sentiment) when 'positive' then 1 when 'negative' then 2 when 'neutral' then 3 else 0 end)`;

const code = {
  booked: outcomeCode('booked'),
  message: outcomeCode('message'),
  voicemail: outcomeCode('voicemail'),
  noAnswer: outcomeCode('no_answer'),
};

const SLICE_SQL = sql.raw(`'${ROLLUP_SLICE_MS / 60_000} minutes'::interval`);

export async function callAggregates(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<CallAggregates> {
  const [row] = await sqlRows<CallAggregates>(tx, callAggregatesQuery(clientId, period));
  if (!row) throw new Error('analytics query returned no row');
  return row;
}

export function callAggregatesQuery(clientId: string, period: AnalyticsPeriod): SQL {
  const parts = periodParts(period);
  // `offset 0` keeps edge_calls a subquery of its own, so its outcome and sentiment CASEs run once
  // per call; flattened into the aggregate, PostgreSQL would evaluate them in every FILTER.
  return sql`with slices as (
          select r.slice, r.calls, r.connected, r.total_duration_ms, r.with_duration, r.booked, r.message,
                 r.voicemail, r.no_answer, r.positive, r.negative, r.neutral
            from analytics_rollups r
           where r.client_id = ${clientId} and ${within(sql`r.slice`, rolledSlices(parts))} and r.calls <> 0
          union all
          select date_bin(${SLICE_SQL}, at, timestamptz '2000-01-01T00:00:00Z'),
                 count(*)::int,
                 count(*) filter (where duration_ms > 0 and outcome not in (${code.noAnswer}, ${code.voicemail}))::int,
                 sum(duration_ms)::bigint,
                 count(*) filter (where duration_ms > 0)::int,
                 count(*) filter (where outcome = ${code.booked})::int,
                 count(*) filter (where outcome = ${code.message})::int,
                 count(*) filter (where outcome = ${code.voicemail})::int,
                 count(*) filter (where outcome = ${code.noAnswer})::int,
                 count(*) filter (where sentiment = 1)::int,
                 count(*) filter (where sentiment = 2)::int,
                 count(*) filter (where sentiment = 3)::int
            from (${perRange(
              parts.raw,
              (ranges) => sql`select ${callSortAt} as at, coalesce(c.duration_ms, 0)::bigint as duration_ms, ${sentimentCode} as sentiment,
                         ${outcomeCodeSql(perRowEvidence)} as outcome
                    from calls c
                   where c.client_id = ${clientId} and ${within(callSortAt, ranges)}
                  offset 0`,
            )}) edge_calls
           group by 1
        ), hourly as materialized (
          -- Local hours first (a quarter-hour lies within one local hour): the buckets, the totals
          -- and the hour-of-week grid then read up to 24 rows a day rather than 96.
          select date_trunc('hour', slice at time zone ${period.timezone}) as local_hour,
                 sum(calls) as calls, sum(connected) as connected, sum(total_duration_ms) as total_duration_ms,
                 sum(with_duration) as with_duration, sum(booked) as booked, sum(message) as message,
                 sum(voicemail) as voicemail, sum(no_answer) as no_answer,
                 sum(positive) as positive, sum(negative) as negative, sum(neutral) as neutral
            from slices group by 1
        ), buckets as materialized (
          select to_char(date_trunc(${period.bucket}, local_hour), 'YYYY-MM-DD') as bucket_start,
                 sum(calls) as calls, sum(connected) as connected, sum(total_duration_ms) as total_duration_ms,
                 sum(with_duration) as with_duration, sum(booked) as booked, sum(message) as message,
                 sum(voicemail) as voicemail, sum(no_answer) as no_answer,
                 sum(positive) as positive, sum(negative) as negative, sum(neutral) as neutral
            from hourly group by 1
        )
        select
          (select json_build_object(
             'calls', coalesce(sum(calls), 0),
             'connected', coalesce(sum(connected), 0),
             'total_duration_ms', coalesce(sum(total_duration_ms), 0),
             'with_duration', coalesce(sum(with_duration), 0),
             'booked_calls', coalesce(sum(booked), 0),
             'sentiment', json_build_object(
               'positive', coalesce(sum(positive), 0),
               'negative', coalesce(sum(negative), 0),
               'neutral', coalesce(sum(neutral), 0),
               'unknown', coalesce(sum(calls - positive - negative - neutral), 0)),
             'outcomes', json_build_object(
               'booked', coalesce(sum(booked), 0),
               'message', coalesce(sum(message), 0),
               'voicemail', coalesce(sum(voicemail), 0),
               'no_answer', coalesce(sum(no_answer), 0),
               'other', coalesce(sum(calls - booked - message - voicemail - no_answer), 0)))
             from buckets) as totals,
          (select json_agg(s order by s.bucket_start) from (
             select bucket_start, calls, connected, total_duration_ms, booked as booked_calls from buckets) s) as series,
          (select json_agg(json_build_array(d, h, n)) from (
             select extract(isodow from local_hour)::int as d, extract(hour from local_hour)::int as h, sum(calls) as n
               from hourly group by 1, 2) x) as hours`;
}

export interface MessageCount {
  channel: string;
  status: string;
  n: number;
}

export async function messageCounts(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<MessageCount[]> {
  const parts = periodParts(period);
  return sqlRows<MessageCount>(
    tx,
    sql`select channel, status, sum(n)::int as n from (
          select r.channel, r.status, r.n from analytics_message_rollups r
           where r.client_id = ${clientId} and ${within(sql`r.slice`, rolledSlices(parts))}
          union all
          ${perRange(parts.raw, (ranges) => sql`select m.channel, m.status, 1 from messages m where m.client_id = ${clientId} and ${within(sql`m.created_at`, ranges)}`)}
        ) x
        group by 1, 2 having sum(n) > 0`,
  );
}

export interface FunctionCount {
  name: string;
  total: number;
  failed: number;
}

export async function functionCounts(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<FunctionCount[]> {
  const parts = periodParts(period);
  return sqlRows<FunctionCount>(
    tx,
    sql`select name, sum(total)::int as total, sum(failed)::int as failed from (
          select r.name, r.total, r.failed from analytics_function_rollups r
           where r.client_id = ${clientId} and ${within(sql`r.slice`, rolledSlices(parts))}
          union all
          ${perRange(parts.raw, (ranges) => sql`select f.name, 1, (f.outcome <> 'ok')::int from function_calls f where f.client_id = ${clientId} and ${within(sql`f.created_at`, ranges)}`)}
        ) x
        group by 1 having sum(total) > 0 order by 3 desc, 2 desc, 1`,
  );
}

/** Appointments created in the period and still booked. */
export async function appointmentsBooked(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<number> {
  const parts = periodParts(period);
  const [row] = await sqlRows<{ n: number }>(
    tx,
    sql`select (coalesce((select sum(r.appointments_booked) from analytics_rollups r
                           where r.client_id = ${clientId} and ${within(sql`r.slice`, rolledSlices(parts))}), 0)
              + (select count(*) from (${perRange(
                  parts.raw,
                  (ranges) => sql`select 1 from appointments a where a.client_id = ${clientId} and a.status = 'booked' and ${within(sql`a.created_at`, ranges)}`,
                )}) edge))::int as n`,
  );
  return row?.n ?? 0;
}

/**
 * Recomputes the rollups from the stored rows (migration 0019's analytics_rebuild): one client,
 * or every client when `clientId` is null (run it through withPlatform). Writers of calls,
 * appointments, messages and function calls wait while it runs.
 */
export async function rebuildRollups(tx: Tx, clientId: string | null): Promise<void> {
  await tx.execute(sql`select analytics_rebuild(${clientId}::text)`);
}
