/**
 * The database schema. Every tenant table carries `client_id NOT NULL`, its indexes lead with it,
 * and row-level security (migrations/*_rls.sql) filters it on `current_setting('app.client_id')`.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** PostgreSQL's text-search document type (drizzle has no built-in column for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * What full-text search over a call reads: the summary and the transcript, stemmed as English.
 * The transcript is cut at 200,000 characters so no call can exceed tsvector's 1 MB limit (a
 * Retell transcript of an hour is about 60,000); the summary comes first so it is always in.
 */
export const CALL_SEARCH_CONFIG = 'english';
const callSearchDocument = sql.raw(
  `to_tsvector('${CALL_SEARCH_CONFIG}', coalesce(summary, '') || ' ' || left(coalesce(transcript, ''), 200000))`,
);

/**
 * A list's order as a stored column rather than an expression: under row-level security
 * PostgreSQL only uses a condition as an index bound when it is leakproof, and `coalesce(…)` never
 * is (the planner treats it as one that might leak), so a bound on the expression index read every
 * row of the client before the cut. Comparisons of plain columns are leakproof.
 */
const callSortAt = sql.raw('coalesce(started_at, created_at)');
const customerSortAt = sql.raw('coalesce(last_call_at, created_at)');

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
    /** Generated: the summary and transcript as a text-search document (see callSearchDocument). */
    searchDocument: tsvector('search_document').generatedAlwaysAs(callSearchDocument),
    /** Generated: the lists' order, when the call started or else when we first heard of it. */
    sortAt: timestamp('sort_at', { withTimezone: true }).generatedAlwaysAs(callSortAt),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.callId] }),
    // The one index not led by client_id: GIN cannot lead with a text column without the
    // btree_gin extension. Searches always add `client_id = …` (and RLS does), so a match list
    // is cut to the client in the same bitmap scan.
    index('calls_search_idx').using('gin', t.searchDocument),
    index('calls_client_started_idx').on(t.clientId, t.startedAt),
    index('calls_client_created_idx').on(t.clientId, t.createdAt),
    index('calls_client_from_idx').on(t.clientId, t.fromNumber),
    // Keyset order of the client API's lists, cursors and CSV batches, and the analytics edges.
    index('calls_client_sort_at_idx').on(t.clientId, t.sortAt, t.callId),
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
    /** Generated: the list's order, the last call or else when the customer was first seen. */
    sortAt: timestamp('sort_at', { withTimezone: true }).generatedAlwaysAs(customerSortAt),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('customers_client_phone_uq').on(t.clientId, t.phone),
    index('customers_client_sort_at_idx').on(t.clientId, t.sortAt, t.id),
  ],
);

/** Post-call workflow runs; one per (client, call, kind), so a re-run never starts twice. */
export const workflowRuns = pgTable(
  'workflow_runs',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    callId: text('call_id').notNull(),
    kind: text('kind').notNull(),
    /** recorded | running | completed | failed */
    status: text('status').notNull(),
    detail: jsonb('detail'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('workflow_runs_client_call_kind_uq').on(t.clientId, t.callId, t.kind),
  ],
);

/** Appointments booked by the agent, in the internal calendar or mirrored from the client's provider. */
export const appointments = pgTable(
  'appointments',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    callId: text('call_id'),
    customerId: uuid('customer_id'),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    /** booked | cancelled */
    status: text('status').notNull(),
    /** internal | zoho */
    provider: text('provider').notNull(),
    providerEventId: text('provider_event_id'),
    providerEtag: text('provider_etag'),
    customerName: text('customer_name'),
    customerPhone: text('customer_phone'),
    customerEmail: text('customer_email'),
    reason: text('reason'),
    /** (call, start) for agent bookings: the same call and slot never book twice. */
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('appointments_client_key_uq').on(t.clientId, t.idempotencyKey),
    uniqueIndex('appointments_client_slot_booked_uq').on(t.clientId, t.startsAt).where(sql`status = 'booked'`),
    index('appointments_client_starts_idx').on(t.clientId, t.startsAt),
    index('appointments_client_phone_idx').on(t.clientId, t.customerPhone),
    index('appointments_client_call_idx').on(t.clientId, t.callId),
  ],
);

/** Every SMS and email: created before sending with a unique key, so a re-run never sends twice. */
export const messages = pgTable(
  'messages',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    callId: text('call_id'),
    customerId: uuid('customer_id'),
    /** sms | email */
    channel: text('channel').notNull(),
    /** confirmation | followup | summary | caller_email | message_taken | link | … */
    kind: text('kind').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    provider: text('provider').notNull(),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address'),
    subject: text('subject'),
    body: text('body').notNull(),
    html: text('html'),
    /** pending | sending | sent | delivered | failed | unknown | suppressed | sandbox | held */
    status: text('status').notNull(),
    providerMessageId: text('provider_message_id'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    segments: integer('segments'),
    attempts: integer('attempts').notNull().default(0),
    sendAfter: timestamp('send_after', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('messages_client_key_uq').on(t.clientId, t.idempotencyKey),
    index('messages_client_created_idx').on(t.clientId, t.createdAt),
    index('messages_client_call_idx').on(t.clientId, t.callId),
    index('messages_client_provider_id_idx').on(t.clientId, t.providerMessageId),
    // The "message taken" evidence of call outcomes (analytics reads every such id of a client).
    index('messages_client_taken_call_idx').on(t.clientId, t.callId).where(sql`kind = 'message_taken'`),
  ],
);

/** Every live function invocation by the agent (args stored without secrets). */
export const functionCalls = pgTable(
  'function_calls',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    callId: text('call_id'),
    name: text('name').notNull(),
    args: jsonb('args'),
    /** ok | error */
    outcome: text('outcome').notNull(),
    errorCode: text('error_code'),
    latencyMs: integer('latency_ms').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    index('function_calls_client_call_idx').on(t.clientId, t.callId),
    index('function_calls_client_created_idx').on(t.clientId, t.createdAt),
    // The "message taken" evidence of call outcomes (analytics reads every such id of a client).
    index('function_calls_client_taken_call_idx').on(t.clientId, t.callId).where(sql`name = 'take_message' and outcome = 'ok'`),
  ],
);

/** Health of each client's provider integrations (e.g. calendar `integration_error` on revoked OAuth). */
export const integrationStatus = pgTable(
  'integration_status',
  {
    clientId: text('client_id').notNull(),
    /** calendar | sms | email */
    capability: text('capability').notNull(),
    provider: text('provider').notNull(),
    /** ok | integration_error */
    status: text('status').notNull(),
    detail: text('detail'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.capability] })],
);

/**
 * People who sign in. Email is stored lower-cased (unique). `client_id` is null only for platform
 * admins (checked). Looked up across clients at login, so it is a platform table (withPlatform);
 * row-level security still scopes it for tenant transactions, where platform admins never appear.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    email: text('email').notNull(),
    /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`; never leaves the auth service. */
    passwordHash: text('password_hash').notNull(),
    /** platform_admin | client_admin | client_viewer */
    role: text('role').notNull(),
    clientId: text('client_id'),
    disabled: boolean('disabled').notNull().default(false),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    /** Access tokens issued up to this time are void (password, role, client or disabled changed). */
    sessionsRevokedAt: timestamp('sessions_revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_email_uq').on(t.email),
    index('users_client_idx').on(t.clientId, t.email),
    check('users_email_lower_ck', sql`${t.email} = lower(${t.email})`),
    check('users_role_ck', sql`${t.role} in ('platform_admin', 'client_admin', 'client_viewer')`),
    check('users_client_scope_ck', sql`(${t.role} = 'platform_admin') = (${t.clientId} is null)`),
  ],
);

/**
 * Opaque refresh tokens, stored as HMAC-SHA256(JWT_REFRESH_SECRET, token). Every rotation adds a
 * row to the same family; presenting a rotated token again revokes the whole family.
 * Platform-only: row-level security admits no tenant.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }),
    replacedBy: uuid('replaced_by'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_uq').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
);

/**
 * Database-backed clients (created through the admin API). `config` is the canonical client
 * config with every secret sealed (`enc:v1:`); `version` drives optimistic concurrency (ETag).
 * Platform-only: row-level security admits no tenant.
 */
export const clientConfigs = pgTable('client_configs', {
  id: text('id').primaryKey(),
  config: jsonb('config').notNull(),
  version: integer('version').notNull().default(1),
  createdBy: uuid('created_by'),
  updatedBy: uuid('updated_by'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Every admin change: who, what, which client, a diff with secrets masked, and the request. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** null for the command line (`actor` says so). */
    actorUserId: uuid('actor_user_id'),
    /** The actor's email at the time, or `cli`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    clientId: text('client_id'),
    targetId: text('target_id'),
    diff: jsonb('diff').notNull(),
    requestId: text('request_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_client_idx').on(t.clientId, t.id),
    index('audit_log_actor_idx').on(t.actorUserId, t.id),
    index('audit_log_action_idx').on(t.action, t.id),
    index('audit_log_created_idx').on(t.createdAt),
  ],
);

/**
 * The outbox of domain events (src/core/domain-events.ts): written in the same tenant transaction
 * as the change that causes it. `seq` orders one client's events in commit order (allocated from
 * domain_event_sequences, whose row lock serialises a client's emitting transactions); gaps are
 * possible, reordering is not. `idempotency_key` makes a re-run of the cause write nothing.
 */
export const domainEvents = pgTable(
  'domain_events',
  {
    id: uuid('id').notNull(),
    clientId: text('client_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    version: integer('version').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('domain_events_client_seq_uq').on(t.clientId, t.seq),
    uniqueIndex('domain_events_client_key_uq').on(t.clientId, t.idempotencyKey),
  ],
);

/**
 * Zoho connect (src/onboarding/zoho-connect.service.ts): one row per authorization-code flow. The
 * `state` Zoho hands back names the row and is signed; `used_at` makes it single use. On success
 * the refresh token is stored sealed (`enc:v1:`) for the client until its config takes it.
 * Platform-only: row-level security admits no tenant.
 */
export const zohoConnections = pgTable(
  'zoho_connections',
  {
    id: uuid('id').primaryKey(),
    clientId: text('client_id').notNull(),
    dataCenter: text('data_center').notNull(),
    accountsBaseUrl: text('accounts_base_url').notNull(),
    oauthClientId: text('oauth_client_id').notNull(),
    /** Sealed (`enc:v1:`). */
    oauthClientSecret: text('oauth_client_secret').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    /** pending | connected | failed */
    status: text('status').notNull().default('pending'),
    /** Sealed (`enc:v1:`); set when connected. */
    refreshToken: text('refresh_token'),
    error: text('error'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('zoho_connections_client_idx').on(t.clientId, t.createdAt), check('zoho_connections_status_ck', sql`${t.status} in ('pending', 'connected', 'failed')`)],
);

/** The last `seq` handed out per client (see domainEvents). */
export const domainEventSequences = pgTable('domain_event_sequences', {
  clientId: text('client_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
});

/**
 * Health alerts (src/alerts/): one row per incident of one kind for one client. At most one
 * unresolved (open or acknowledged) alert per client and kind, so a detector that keeps seeing
 * the problem updates its incident instead of opening another. The notice columns record which
 * operator notices went out (opened, reminders, recovery): one each per incident.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    /** The detector: no_events | signature_failures | provider_credentials | messages_failing | dead_jobs | concurrency_cap | config_invalid | webhook_disabled */
    kind: text('kind').notNull(),
    /** critical | warning */
    severity: text('severity').notNull(),
    /** open | acknowledged | resolved */
    state: text('state').notNull(),
    /** What was seen, in a sentence (no secrets). */
    summary: text('summary').notNull(),
    /** What to do about it. */
    action: text('action').notNull(),
    /** The detector's figures when it last saw the problem. */
    details: jsonb('details').notNull().default(sql`'{}'::jsonb`),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    /** The last evaluation that saw the problem. */
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    /** Since when the problem has not been seen (flap damping: resolved once clear long enough). */
    clearSince: timestamp('clear_since', { withTimezone: true }),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    /** `detector` (it cleared) or the user id who resolved it. */
    resolvedBy: text('resolved_by'),
    notifiedAt: timestamp('notified_at', { withTimezone: true }),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    reminders: integer('reminders').notNull().default(0),
    recoveryNotifiedAt: timestamp('recovery_notified_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('alerts_client_kind_active_uq').on(t.clientId, t.kind).where(sql`state <> 'resolved'`),
    index('alerts_client_opened_idx').on(t.clientId, t.openedAt),
  ],
);

/**
 * A client's outbound webhook subscriptions (src/outbound-webhooks/): where to POST which domain
 * events. Secrets are Standard Webhooks `whsec_` keys sealed with ENCRYPTION_KEY; during a
 * rotation the previous one signs too until `previous_secret_expires_at`.
 */
export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** Domain event types (core/domain-events.ts) delivered to this URL. */
    eventTypes: jsonb('event_types').$type<string[]>().notNull(),
    /** Sealed (enc:v1:…) `whsec_` secret. */
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    /** active | disabled */
    status: text('status').notNull().default('active'),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /**
     * Since when every attempt failed (null after any success): 24 h of it disables the subscription.
     * Kept on a subscription disabled that way (the webhook_disabled alert reads it); cleared when a
     * user disables or re-enables it.
     */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.id] }), index('webhook_subscriptions_client_created_idx').on(t.clientId, t.createdAt)],
);

/**
 * One domain event to one subscription: the unit that is retried, dead-lettered and replayed.
 * Unique per (subscription, event), so a repeated fan-out adds nothing; its id is the message's
 * stable `webhook-id`.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    clientId: text('client_id').notNull(),
    subscriptionId: uuid('subscription_id').notNull(),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    /** Delivered after every earlier ordered delivery of its subscription is finished. */
    ordered: boolean('ordered').notNull(),
    /** pending | waiting (behind an earlier ordered one) | succeeded | dead */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    firstAttemptAt: timestamp('first_attempt_at', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastStatusCode: integer('last_status_code'),
    lastLatencyMs: integer('last_latency_ms'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.id] }),
    uniqueIndex('webhook_deliveries_client_sub_event_uq').on(t.clientId, t.subscriptionId, t.eventId),
    index('webhook_deliveries_client_sub_seq_idx').on(t.clientId, t.subscriptionId, t.eventSeq),
    index('webhook_deliveries_client_created_idx').on(t.clientId, t.createdAt),
  ],
);

/** Every attempt of a delivery: the delivery log. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    clientId: text('client_id').notNull(),
    deliveryId: uuid('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    /** succeeded | failed */
    outcome: text('outcome').notNull(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('webhook_delivery_attempts_client_delivery_idx').on(t.clientId, t.deliveryId, t.attempt)],
);

/**
 * Analytics rollups (migration 0018), maintained by triggers in the transaction of every write to
 * calls, appointments, messages and function_calls, so no write path can skip them and a
 * duplicate event (which changes no row) changes no figure. Time is cut into UTC quarter-hours
 * (`slice`): every zone's offset is a whole number of quarter-hours, so a slice lies inside one
 * local hour of any zone and the reader moves it into the client's timezone of the moment (a
 * timezone change re-buckets history with no rebuild, exactly as the per-call query did).
 * Written only by the triggers and analytics_rebuild(); analytics.repo.ts reads them.
 */
const rollupCount = (name: string) => integer(name).notNull().default(0);

/** What each call currently adds to analytics_rollups, so a change can take exactly that back. */
export const analyticsCallEntries = pgTable(
  'analytics_call_entries',
  {
    clientId: text('client_id').notNull(),
    callId: text('call_id').notNull(),
    slice: timestamp('slice', { withTimezone: true }).notNull(),
    /** Index in callOutcomes (0 booked, 1 message, 2 voicemail, 3 no_answer, 4 other). */
    outcome: smallint('outcome').notNull(),
    /** 1 positive, 2 negative, 3 neutral, 0 anything else. */
    sentiment: smallint('sentiment').notNull(),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.callId] })],
);

/** Per client and UTC quarter-hour: the call figures (by call start) and bookings (by creation). */
export const analyticsRollups = pgTable(
  'analytics_rollups',
  {
    clientId: text('client_id').notNull(),
    slice: timestamp('slice', { withTimezone: true }).notNull(),
    calls: rollupCount('calls'),
    connected: rollupCount('connected'),
    totalDurationMs: bigint('total_duration_ms', { mode: 'number' }).notNull().default(0),
    withDuration: rollupCount('with_duration'),
    booked: rollupCount('booked'),
    message: rollupCount('message'),
    voicemail: rollupCount('voicemail'),
    noAnswer: rollupCount('no_answer'),
    positive: rollupCount('positive'),
    negative: rollupCount('negative'),
    neutral: rollupCount('neutral'),
    /** Appointments created in the slice whose status is booked. */
    appointmentsBooked: rollupCount('appointments_booked'),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.slice] })],
);

/** Messages created per client, UTC quarter-hour, channel and current status. */
export const analyticsMessageRollups = pgTable(
  'analytics_message_rollups',
  {
    clientId: text('client_id').notNull(),
    slice: timestamp('slice', { withTimezone: true }).notNull(),
    channel: text('channel').notNull(),
    status: text('status').notNull(),
    n: rollupCount('n'),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.slice, t.channel, t.status] })],
);

/** Function calls per client, UTC quarter-hour and function name. */
export const analyticsFunctionRollups = pgTable(
  'analytics_function_rollups',
  {
    clientId: text('client_id').notNull(),
    slice: timestamp('slice', { withTimezone: true }).notNull(),
    name: text('name').notNull(),
    total: rollupCount('total'),
    failed: rollupCount('failed'),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.slice, t.name] })],
);

export const schema = {
  clients,
  calls,
  callEvents,
  customers,
  workflowRuns,
  appointments,
  messages,
  functionCalls,
  integrationStatus,
  users,
  refreshTokens,
  clientConfigs,
  auditLog,
  zohoConnections,
  domainEvents,
  domainEventSequences,
  alerts,
  webhookSubscriptions,
  webhookDeliveries,
  webhookDeliveryAttempts,
  analyticsCallEntries,
  analyticsRollups,
  analyticsMessageRollups,
  analyticsFunctionRollups,
};
