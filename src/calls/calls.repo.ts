/**
 * Calls and customers, always inside a tenant transaction. Upserts are order-tolerant: Retell
 * delivers events "in order but not blocking", so call_analyzed may arrive before call_ended.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SqlStatement, Tx } from '../platform/db/database.ts';
import { callEvents, calls, workflowRuns } from '../platform/db/schema.ts';

/** The transaction-local setting through which statement 1 hands the new call's customer to statement 2. */
export const NEW_CALL_CUSTOMER = 'xlnc.new_call_customer';

/**
 * The customer writes of the ingest (customers.repo.ts owns them): `upsert` is the body of a CTE
 * that reads the CTE `event` and returns the customer id; `countNewCall` the second statement.
 */
export interface IngestCustomerSql {
  upsert: SQL;
  countNewCall: SQL;
}

export interface CallUpsert {
  callId: string;
  /** Lifecycle rank of the event carrying this data (see LIFECYCLE_RANK). */
  rank: number;
  agentId: string | null;
  callType: string | null;
  direction: string | null;
  fromNumber: string | null;
  toNumber: string | null;
  status: string | null;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
  disconnectionReason: string | null;
  transcript: string | null;
  transcriptObject: unknown;
  recordingUrl: string | null;
  publicLogUrl: string | null;
  analysis: unknown;
  summary: string | null;
  sentiment: string | null;
  successful: boolean | null;
  metadata: unknown;
  dynamicVariables: unknown;
  cost: unknown;
}

const MERGED_COLUMNS = [
  'agent_id',
  'call_type',
  'direction',
  'from_number',
  'to_number',
  'customer_id',
  'status',
  'started_at',
  'ended_at',
  'duration_ms',
  'disconnection_reason',
  'transcript',
  'transcript_object',
  'recording_url',
  'public_log_url',
  'analysis',
  'summary',
  'sentiment',
  'successful',
  'metadata',
  'dynamic_variables',
  'cost',
] as const;

/**
 * Data from an event at least as late as what the row has wins column by column; data from an
 * earlier event only fills columns that are still empty.
 */
const MERGE_SQL = MERGED_COLUMNS.map(
  (column) =>
    `${column} = case when excluded.lifecycle_rank >= calls.lifecycle_rank then coalesce(excluded.${column}, calls.${column}) ` +
    `else coalesce(calls.${column}, excluded.${column}) end`,
).join(',\n      ');

const dialect = new PgDialect();
const toStatement = (query: SQL): SqlStatement => {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return { text, params };
};

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const iso = (value: Date | null) => (value ? value.toISOString() : null);

export interface EventInsert {
  /** Chosen by the caller, so statements behind this one can name the event before it exists. */
  eventId: string;
  callId: string;
  event: string;
  dedupeKey: string;
  payload: unknown;
}

/** Stores an event unless its dedupe key is already stored; returns `event_id` only when stored. */
export function insertEventStatement(clientId: string, event: EventInsert): SqlStatement {
  return toStatement(sql`${storeEvent(clientId, event)} returning id as event_id`);
}

/** The event insert both statements share: a redelivery (same dedupe key) inserts nothing. */
function storeEvent(clientId: string, event: EventInsert): SQL {
  return sql`
    insert into call_events (id, client_id, call_id, event, dedupe_key, payload)
    values (${event.eventId}::uuid, ${clientId}, ${event.callId}, ${event.event}, ${event.dedupeKey}, ${json(event.payload)}::jsonb)
    on conflict (client_id, dedupe_key) do nothing`;
}

/**
 * The call-event ingest as two statements for one transaction (see Database.batch):
 *
 * 1. stores the event and, only when it is new, upserts the caller's customer and merges the
 *    event into the call row (order-tolerant, see MERGE_SQL), returning `event_id`
 *    (no row: a duplicate, nothing written);
 * 2. counts the call on the customer when statement 1 created the call row. Statement 1 passes
 *    that customer through a transaction-local setting: a second write to the customer row inside
 *    statement 1 would not see the upsert's version of the row.
 */
export function ingestCallStatements(
  clientId: string,
  event: EventInsert,
  customer: IngestCustomerSql,
  call: CallUpsert,
): SqlStatement[] {
  const store = sql`
    with event as (
      ${storeEvent(clientId, event)}
      returning id
    ),
    customer as (${customer.upsert}
    ),
    merged as (
      insert into calls (
        client_id, call_id, lifecycle_rank, agent_id, call_type, direction, from_number, to_number, customer_id,
        status, started_at, ended_at, duration_ms, disconnection_reason, transcript, transcript_object,
        recording_url, public_log_url, analysis, summary, sentiment, successful, metadata, dynamic_variables, cost
      )
      select ${clientId}, ${call.callId}, ${call.rank}::int, ${call.agentId}::text, ${call.callType}::text,
        ${call.direction}::text, ${call.fromNumber}::text, ${call.toNumber}::text, (select id from customer),
        ${call.status}::text, ${iso(call.startedAt)}::timestamptz, ${iso(call.endedAt)}::timestamptz,
        ${call.durationMs}::bigint, ${call.disconnectionReason}::text, ${call.transcript}::text,
        ${json(call.transcriptObject)}::jsonb, ${call.recordingUrl}::text, ${call.publicLogUrl}::text,
        ${json(call.analysis)}::jsonb, ${call.summary}::text, ${call.sentiment}::text, ${call.successful}::boolean,
        ${json(call.metadata)}::jsonb, ${json(call.dynamicVariables)}::jsonb, ${json(call.cost)}::jsonb
      from event
      on conflict (client_id, call_id) do update set
      ${sql.raw(MERGE_SQL)},
      lifecycle_rank = greatest(calls.lifecycle_rank, excluded.lifecycle_rank),
      updated_at = now()
      returning (xmax = 0) as inserted, customer_id
    )
    select event.id as event_id,
      set_config(${NEW_CALL_CUSTOMER}, coalesce((select customer_id::text from merged where inserted), ''), true)
    from event`;
  const count = customer.countNewCall;
  return [toStatement(store), toStatement(count)];
}

/** Records a post-call run once per (client, call, kind): a re-run of the same kind writes nothing. */
export async function recordWorkflowRun(tx: Tx, clientId: string, run: { callId: string; kind: string; detail: unknown }): Promise<void> {
  await tx
    .insert(workflowRuns)
    .values({ clientId, callId: run.callId, kind: run.kind, status: 'completed', detail: run.detail })
    .onConflictDoNothing({ target: [workflowRuns.clientId, workflowRuns.callId, workflowRuns.kind] });
}

/** A stored Retell event (call_events) by id. */
export async function findStoredEvent(tx: Tx, clientId: string, eventId: string) {
  const [row] = await tx
    .select()
    .from(callEvents)
    .where(and(eq(callEvents.clientId, clientId), eq(callEvents.id, eventId)));
  return row;
}

export async function findCall(tx: Tx, clientId: string, callId: string) {
  const [row] = await tx.select().from(calls).where(and(eq(calls.clientId, clientId), eq(calls.callId, callId)));
  return row;
}
