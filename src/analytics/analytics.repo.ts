/**
 * Analytics aggregates, grouped in PostgreSQL in two stages so the per-call work stays small:
 *   1. one pass over the period's calls groups them into UTC slices (`date_bin`, plain arithmetic
 *      on the timestamp) with every count as a FILTER aggregate: at most 24 rows a day leave this
 *      stage (96 in a zone whose offset is not a whole hour; see slice-minutes.ts);
 *   2. each slice is moved into the client's timezone (a slice never straddles a local hour) and
 *      rolled up into the totals, the day/week series and the hour-of-week grid.
 * So the costly timezone conversion runs per slice, not per call, and one round trip returns the
 * whole call side whatever the number of calls.
 */
import { sql } from 'drizzle-orm';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { callSortAt, clientEvidenceSets, outcomeCode, outcomeCodeSql } from './call-outcome.ts';
import { sliceMinutesFor } from './slice-minutes.ts';

export interface AnalyticsPeriod {
  from: Date;
  to: Date;
  /** IANA zone the buckets and hours are local to. */
  timezone: string;
  bucket: 'day' | 'week';
}

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
 * Settings for this transaction's aggregates: with the 4 MB default work_mem, PostgreSQL sorts a
 * large client's calls on disk instead of hashing them into slices; JIT compilation, which a large
 * client's cost estimate switches on, made the call aggregates slower whenever measured (at
 * 100,000 calls: 15% slower, 2.7 times slower with its optimisation on).
 */
export async function prepareAnalyticsTransaction(tx: Tx): Promise<void> {
  await tx.execute(sql`select set_config('work_mem', '32MB', true), set_config('jit', 'off', true)`);
}

/**
 * A call's sentiment as lower(sentiment) would classify it: 1 positive, 2 negative, 3 neutral,
 * 0 anything else. Retell's own spellings are matched first, as they are: the locale-aware lower()
 * on every call cost an eighth of the query (measured at 100,000 calls).
 */
const sentimentCode = sql`(case c.sentiment when 'Positive' then 1 when 'Negative' then 2 when 'Neutral' then 3 when 'Unknown' then 0
  else (case lower(c.sentiment) when 'positive' then 1 when 'negative' then 2 when 'neutral' then 3 else 0 end) end)`;

const code = {
  booked: outcomeCode('booked'),
  message: outcomeCode('message'),
  voicemail: outcomeCode('voicemail'),
  noAnswer: outcomeCode('no_answer'),
};

export async function callAggregates(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<CallAggregates> {
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const slice = `${sliceMinutesFor(period.timezone, period.from, period.to)} minutes`;
  // `offset 0` keeps period_calls a subquery of its own, so its outcome and sentiment CASEs run
  // once per call; flattened into the aggregate, PostgreSQL would evaluate them in every FILTER.
  const [row] = await sqlRows<CallAggregates>(
    tx,
    sql`with slices as materialized (
          select date_bin(${slice}::interval, at, timestamptz '2000-01-01T00:00:00Z') as slice,
                 count(*)::int as calls,
                 count(*) filter (where duration_ms > 0 and outcome not in (${code.noAnswer}, ${code.voicemail}))::int as connected,
                 sum(duration_ms) as total_duration_ms,
                 count(*) filter (where duration_ms > 0)::int as with_duration,
                 count(*) filter (where outcome = ${code.booked})::int as booked,
                 count(*) filter (where outcome = ${code.message})::int as message,
                 count(*) filter (where outcome = ${code.voicemail})::int as voicemail,
                 count(*) filter (where outcome = ${code.noAnswer})::int as no_answer,
                 count(*) filter (where sentiment = 1)::int as positive,
                 count(*) filter (where sentiment = 2)::int as negative,
                 count(*) filter (where sentiment = 3)::int as neutral
            from (select ${callSortAt} as at, coalesce(c.duration_ms, 0)::float8 as duration_ms, ${sentimentCode} as sentiment,
                         ${outcomeCodeSql(clientEvidenceSets(clientId))} as outcome
                    from calls c
                   where c.client_id = ${clientId}
                     and ${callSortAt} >= ${from}::timestamptz and ${callSortAt} < ${to}::timestamptz
                  offset 0) period_calls
           group by 1
        ), local_slices as materialized (
          select slice at time zone ${period.timezone} as local_at, * from slices
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
             from local_slices) as totals,
          (select json_agg(s order by s.bucket_start) from (
             select to_char(date_trunc(${period.bucket}, local_at), 'YYYY-MM-DD') as bucket_start,
                    sum(calls) as calls, sum(connected) as connected,
                    sum(total_duration_ms) as total_duration_ms, sum(booked) as booked_calls
               from local_slices group by 1) s) as series,
          (select json_agg(json_build_array(d, h, n)) from (
             select extract(isodow from local_at)::int as d, extract(hour from local_at)::int as h, sum(calls) as n
               from local_slices group by 1, 2) x) as hours`,
  );
  if (!row) throw new Error('analytics query returned no row');
  return row;
}

export interface MessageCount {
  channel: string;
  status: string;
  n: number;
}

export async function messageCounts(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<MessageCount[]> {
  return sqlRows<MessageCount>(
    tx,
    sql`select channel, status, count(*)::int as n from messages
         where client_id = ${clientId}
           and created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz
         group by 1, 2`,
  );
}

export interface FunctionCount {
  name: string;
  total: number;
  failed: number;
}

export async function functionCounts(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<FunctionCount[]> {
  return sqlRows<FunctionCount>(
    tx,
    sql`select name, count(*)::int as total, count(*) filter (where outcome <> 'ok')::int as failed from function_calls
         where client_id = ${clientId}
           and created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz
         group by 1 order by 3 desc, 2 desc, 1`,
  );
}

export async function appointmentsBooked(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<number> {
  const [row] = await sqlRows<{ n: number }>(
    tx,
    sql`select count(*)::int as n from appointments
         where client_id = ${clientId} and status = 'booked'
           and created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz`,
  );
  return row?.n ?? 0;
}
