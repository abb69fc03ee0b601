/**
 * Calls and customers, always inside a tenant transaction. Upserts are order-tolerant: Retell
 * delivers events "in order but not blocking", so call_analyzed may arrive before call_ended.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SqlStatement, Tx } from '../platform/db/database.ts';
import { customers } from '../platform/db/schema.ts';

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
  phone: string | undefined,
  seenAt: Date,
  call: CallUpsert,
): SqlStatement[] {
  const store = sql`
    with event as (
      ${storeEvent(clientId, event)}
      returning id
    ),
    customer as (
      insert into customers (client_id, phone, last_call_at)
      select ${clientId}, ${phone ?? null}::text, ${iso(seenAt)}::timestamptz from event where ${phone ?? null}::text is not null
      on conflict (client_id, phone) do update
        set last_call_at = greatest(customers.last_call_at, excluded.last_call_at), updated_at = now()
      returning id
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
      set_config('xlnc.new_call_customer', coalesce((select customer_id::text from merged where inserted), ''), true)
    from event`;
  const count = sql`
    update customers set call_count = call_count + 1
    where client_id = ${clientId} and id = nullif(current_setting('xlnc.new_call_customer', true), '')::uuid`;
  return [toStatement(store), toStatement(count)];
}

/** Upserts the customer by (client, E.164 phone); returns its id. */
export async function upsertCustomerByPhone(tx: Tx, clientId: string, phone: string, seenAt: Date): Promise<string> {
  const [row] = await tx
    .insert(customers)
    .values({ clientId, phone, lastCallAt: seenAt })
    .onConflictDoUpdate({
      target: [customers.clientId, customers.phone],
      set: {
        lastCallAt: sql`greatest(customers.last_call_at, excluded.last_call_at)`,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: customers.id });
  if (!row) throw new Error('customer upsert returned no row');
  return row.id;
}
