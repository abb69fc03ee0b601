/**
 * Analytics aggregates, grouped in PostgreSQL in two stages so the per-call work stays small:
 *   1. the period's calls are grouped into 15-minute UTC slices (`date_bin`, plain arithmetic on the
 *      timestamp) with every count as a FILTER aggregate: at most 96 rows a day leave this stage;
 *   2. each slice is moved into the client's timezone (every zone's offset is a multiple of
 *      15 minutes, so a slice never straddles a local hour) and rolled up into the totals, the
 *      day/week series and the hour-of-week grid.
 * So the costly timezone conversion runs per slice, not per call, and one round trip returns the
 * whole call side whatever the number of calls.
 */
import { sql } from 'drizzle-orm';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { callSortAt, outcomeSql } from './call-outcome.ts';

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
 * Booking and message evidence as hash joins over the client's appointments and messages (one
 * pass each) rather than a probe per call.
 */
const joinedOutcome = outcomeSql({ booked: sql`b.call_id is not null`, message: sql`t.call_id is not null` });

/**
 * Memory for this transaction's aggregates: with the 4 MB default, PostgreSQL sorts a large
 * client's calls on disk instead of hashing them into slices.
 */
export async function allowAnalyticsMemory(tx: Tx): Promise<void> {
  await tx.execute(sql`select set_config('work_mem', '32MB', true)`);
}

export async function callAggregates(tx: Tx, clientId: string, period: AnalyticsPeriod): Promise<CallAggregates> {
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const [row] = await sqlRows<CallAggregates>(
    tx,
    sql`with booked as (
          select distinct call_id from appointments where client_id = ${clientId} and call_id is not null
        ), taken as (
          select call_id from messages where client_id = ${clientId} and kind = 'message_taken' and call_id is not null
          union
          select call_id from function_calls
           where client_id = ${clientId} and name = 'take_message' and outcome = 'ok' and call_id is not null
        ), period_calls as (
          select ${callSortAt} as at, coalesce(c.duration_ms, 0)::float8 as duration_ms, lower(c.sentiment) as sentiment,
                 ${joinedOutcome} as outcome
            from calls c
            left join booked b on b.call_id = c.call_id
            left join taken t on t.call_id = c.call_id
           where c.client_id = ${clientId}
             and ${callSortAt} >= ${from}::timestamptz and ${callSortAt} < ${to}::timestamptz
        ), slices as materialized (
          select date_bin('15 minutes', at, timestamptz '2000-01-01T00:00:00Z') as slice,
                 count(*)::int as calls,
                 count(*) filter (where duration_ms > 0 and outcome not in ('no_answer', 'voicemail'))::int as connected,
                 sum(duration_ms) as total_duration_ms,
                 count(*) filter (where duration_ms > 0)::int as with_duration,
                 count(*) filter (where outcome = 'booked')::int as booked,
                 count(*) filter (where outcome = 'message')::int as message,
                 count(*) filter (where outcome = 'voicemail')::int as voicemail,
                 count(*) filter (where outcome = 'no_answer')::int as no_answer,
                 count(*) filter (where sentiment = 'positive')::int as positive,
                 count(*) filter (where sentiment = 'negative')::int as negative,
                 count(*) filter (where sentiment = 'neutral')::int as neutral
            from period_calls group by 1
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
