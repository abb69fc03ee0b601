/**
 * Analytics aggregates, grouped in PostgreSQL: the calls of the period are read once into a
 * materialised CTE (one row per call, a few columns) and every figure is an aggregate over it, so
 * one round trip returns the whole call side whatever the number of calls.
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
  totals: { calls: number; connected: number; total_duration_ms: number; average_duration_ms: number | null; booked_calls: number };
  series: { bucket_start: string; calls: number; connected: number; total_duration_ms: number; booked_calls: number }[] | null;
  sentiment: Record<string, number> | null;
  outcomes: Record<string, number> | null;
  /** [isodow 1-7, hour 0-23, calls] */
  hours: [number, number, number][] | null;
}

/**
 * Booking and message evidence as hash joins over the client's appointments and messages (one
 * pass each) rather than a probe per call.
 */
const joinedOutcome = outcomeSql({ booked: sql`b.call_id is not null`, message: sql`t.call_id is not null` });

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
        ), period_calls as materialized (
          select (${callSortAt} at time zone ${period.timezone}) as local_at,
                 coalesce(c.duration_ms, 0)::float8 as duration_ms,
                 case when lower(c.sentiment) in ('positive', 'negative', 'neutral') then lower(c.sentiment) else 'unknown' end as sentiment,
                 ${joinedOutcome} as outcome
            from calls c
            left join booked b on b.call_id = c.call_id
            left join taken t on t.call_id = c.call_id
           where c.client_id = ${clientId}
             and ${callSortAt} >= ${from}::timestamptz and ${callSortAt} < ${to}::timestamptz
        ), scored as materialized (
          select local_at, duration_ms, sentiment, outcome,
                 (duration_ms > 0 and outcome not in ('no_answer', 'voicemail')) as connected
            from period_calls
        )
        select
          (select json_build_object(
             'calls', count(*),
             'connected', count(*) filter (where connected),
             'total_duration_ms', coalesce(sum(duration_ms), 0),
             'average_duration_ms', avg(duration_ms) filter (where duration_ms > 0),
             'booked_calls', count(*) filter (where outcome = 'booked'))
             from scored) as totals,
          (select json_agg(s order by s.bucket_start) from (
             select to_char(date_trunc(${period.bucket}, local_at), 'YYYY-MM-DD') as bucket_start,
                    count(*) as calls,
                    count(*) filter (where connected) as connected,
                    coalesce(sum(duration_ms), 0) as total_duration_ms,
                    count(*) filter (where outcome = 'booked') as booked_calls
               from scored group by 1) s) as series,
          (select json_object_agg(sentiment, n) from (select sentiment, count(*) as n from scored group by 1) x) as sentiment,
          (select json_object_agg(outcome, n) from (select outcome, count(*) as n from scored group by 1) x) as outcomes,
          (select json_agg(json_build_array(d, h, n)) from (
             select extract(isodow from local_at)::int as d, extract(hour from local_at)::int as h, count(*) as n
               from scored group by 1, 2) x) as hours`,
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
