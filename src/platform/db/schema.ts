/**
 * The database schema. Every tenant table carries `client_id NOT NULL`, its indexes lead with it,
 * and row-level security (migrations/*_rls.sql) filters it on `current_setting('app.client_id')`.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** The platform's catalogue of clients, mirrored from config files or created through the admin API. */
export const clients = pgTable('clients', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** active | disabled | invalid */
  status: text('status').notNull(),
  /** file | db */
  source: text('source').notNull(),
  configHash: text('config_hash').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** One row per Retell call; `call_id` is Retell's id, unique within a client. */
export const calls = pgTable(
  'calls',
  {
    clientId: text('client_id').notNull(),
    callId: text('call_id').notNull(),
    agentId: text('agent_id'),
    callType: text('call_type'),
    direction: text('direction'),
    fromNumber: text('from_number'),
    toNumber: text('to_number'),
    customerId: uuid('customer_id'),
    status: text('status'),
    /** Rank of the furthest lifecycle event applied, so an earlier event never overwrites later data. */
    lifecycleRank: integer('lifecycle_rank').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    disconnectionReason: text('disconnection_reason'),
    transcript: text('transcript'),
    transcriptObject: jsonb('transcript_object'),
    recordingUrl: text('recording_url'),
    publicLogUrl: text('public_log_url'),
    analysis: jsonb('analysis'),
    summary: text('summary'),
    sentiment: text('sentiment'),
    successful: boolean('successful'),
    metadata: jsonb('metadata'),
    dynamicVariables: jsonb('dynamic_variables'),
    cost: jsonb('cost'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.callId] }),
    index('calls_client_started_idx').on(t.clientId, t.startedAt),
    index('calls_client_created_idx').on(t.clientId, t.createdAt),
    index('calls_client_from_idx').on(t.clientId, t.fromNumber),
  ],
);

/** Every webhook event as received; `dedupe_key` makes a redelivery a no-op. */
export const callEvents = pgTable(
  'call_events',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    callId: text('call_id').notNull(),
    event: text('event').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('call_events_client_dedupe_uq').on(t.clientId, t.dedupeKey),
    index('call_events_client_call_idx').on(t.clientId, t.callId, t.receivedAt),
  ],
);

/** People who called a client, keyed by E.164 phone number within that client. */
export const customers = pgTable(
  'customers',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    phone: text('phone').notNull(),
    name: text('name'),
    email: text('email'),
    optedOutAt: timestamp('opted_out_at', { withTimezone: true }),
    lastCallAt: timestamp('last_call_at', { withTimezone: true }),
    callCount: integer('call_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('customers_client_phone_uq').on(t.clientId, t.phone),
  ],
);

export const schema = { clients, calls, callEvents, customers };
