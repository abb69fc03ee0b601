/**
 * Calls and customers, always inside a tenant transaction. Upserts are order-tolerant: Retell
 * delivers events "in order but not blocking", so call_analyzed may arrive before call_ended.
 */
import { getTableColumns, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { calls, customers } from '../platform/db/schema.ts';

export interface CallUpsert {
  callId: string;
  /** Lifecycle rank of the event carrying this data (see LIFECYCLE_RANK). */
  rank: number;
  agentId: string | null;
  callType: string | null;
  direction: string | null;
  fromNumber: string | null;
  toNumber: string | null;
  customerId: string | null;
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
 * (Keys are drizzle property names; values are SQL on the database column names.)
 * Data from an event at least as late as what the row has wins column by column; data from an
 * earlier event only fills columns that are still empty.
 */
const columnsByName = new Map(Object.entries(getTableColumns(calls)).map(([property, column]) => [column.name, property]));
const mergeSet = Object.fromEntries(
  MERGED_COLUMNS.map((column) => [
    columnsByName.get(column) ?? column,
    sql.raw(
      `case when excluded.lifecycle_rank >= calls.lifecycle_rank then coalesce(excluded.${column}, calls.${column}) ` +
        `else coalesce(calls.${column}, excluded.${column}) end`,
    ),
  ]),
);

/** Returns whether the call row was created by this statement. */
export async function upsertCall(tx: Tx, clientId: string, call: CallUpsert): Promise<{ inserted: boolean }> {
  const { rank, ...columns } = call;
  const [row] = await tx
    .insert(calls)
    .values({ clientId, lifecycleRank: rank, ...columns })
    .onConflictDoUpdate({
      target: [calls.clientId, calls.callId],
      set: {
        ...mergeSet,
        lifecycleRank: sql`greatest(calls.lifecycle_rank, excluded.lifecycle_rank)`,
        updatedAt: sql`now()`,
      },
    })
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  return { inserted: Boolean(row?.inserted) };
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

export async function countCustomerCall(tx: Tx, clientId: string, customerId: string): Promise<void> {
  await tx
    .update(customers)
    .set({ callCount: sql`${customers.callCount} + 1` })
    .where(sql`${customers.clientId} = ${clientId} and ${customers.id} = ${customerId}`);
}
