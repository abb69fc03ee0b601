/**
 * Read queries of the client API, always inside a tenant transaction and scoped by `clientId`
 * first (row-level security enforces the same). Lists are keyset-paginated on (timestamp, id) so a
 * page never repeats or skips a row when new rows arrive meanwhile.
 */
import { sql, type SQL } from 'drizzle-orm';
import { callSortAt, outcomeSql, perRowEvidence, type CallOutcome } from '../analytics/call-outcome.ts';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { CALL_SEARCH_CONFIG } from '../platform/db/schema.ts';
import type { Cursor } from './cursor.ts';

/** UTC with microseconds: the cursor's sort key (see cursor.ts). */
const sortKey = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface CallFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  outcome?: CallOutcome | undefined;
  sentiment?: 'positive' | 'negative' | 'neutral' | 'unknown' | undefined;
  direction?: 'inbound' | 'outbound' | undefined;
  agent?: string | undefined;
  q?: string | undefined;
}

export interface CallRow {
  call_id: string;
  agent_id: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  status: string | null;
  started_at: Date | string | null;
  ended_at: Date | string | null;
  duration_ms: number | null;
  disconnection_reason: string | null;
  sentiment: string | null;
  successful: boolean | null;
  summary: string | null;
  outcome: CallOutcome;
  recording_url: string | null;
  created_at: Date | string;
  sort_at: string;
}

/** `%`, `_` and `\` are LIKE metacharacters; escaped so the search text matches literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** "(415) 555-01" finds "+1415555 01…": a text of digits and phone punctuation searches numbers. */
const PHONE_LIKE = /^[\d\s()+.-]+$/;

const outcome = outcomeSql(perRowEvidence);

/** The customer's number: who called in, or who was called on an outbound call. */
const callerNumber = sql`(case when c.direction = 'outbound' then c.to_number else c.from_number end)`;

/**
 * What `q` matches: a phone-like text the customer's number (digits only); words the call's
 * summary and transcript through full-text search (websearch syntax: "quoted phrase", or, -word),
 * stemmed like the stored document; a text with no letter or digit at all (`%`, `_`) the summary
 * literally, since text search would find no word in it.
 */
function searchCondition(text: string): SQL {
  if (PHONE_LIKE.test(text) && /\d/.test(text)) return sql`${callerNumber} ilike ${likePattern(text.replace(/\D/g, ''))}`;
  if (!/[\p{L}\p{N}]/u.test(text)) return sql`c.summary ilike ${likePattern(text)}`;
  return sql`c.search_document @@ ${textQuery(text)}`;
}

/** Whether `q` is a full-text search (rather than a number or a literal summary match). */
const isTextSearch = (text: string) => !(PHONE_LIKE.test(text) && /\d/.test(text)) && /[\p{L}\p{N}]/u.test(text);

const textQuery = (text: string) => sql`websearch_to_tsquery(${sql.raw(`'${CALL_SEARCH_CONFIG}'`)}, ${text})`;

function callConditions(clientId: string, filter: CallFilter, after: Cursor | undefined): SQL {
  const conditions: SQL[] = [sql`c.client_id = ${clientId}`];
  if (filter.from) conditions.push(sql`${callSortAt} >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) conditions.push(sql`${callSortAt} < ${filter.to.toISOString()}::timestamptz`);
  if (filter.direction) conditions.push(sql`c.direction = ${filter.direction}`);
  if (filter.agent) conditions.push(sql`c.agent_id = ${filter.agent}`);
  if (filter.sentiment === 'unknown') {
    conditions.push(sql`(c.sentiment is null or lower(c.sentiment) not in ('positive', 'negative', 'neutral'))`);
  } else if (filter.sentiment) {
    conditions.push(sql`lower(c.sentiment) = ${filter.sentiment}`);
  }
  if (filter.q) conditions.push(searchCondition(filter.q));
  if (filter.outcome) conditions.push(sql`${outcome} = ${filter.outcome}`);
  // On the stored columns of the index (client_id, sort_at, call_id): a row comparison of plain
  // columns is leakproof, so under row-level security it is the index bound and a page 90,000 calls
  // deep reads only its own rows (on the coalesce expression it read every newer call first).
  if (after) conditions.push(sql`(${callSortAt}, c.call_id) < (${after.at}::timestamptz, ${after.id})`);
  return sql.join(conditions, sql` and `);
}

/** The page's columns, over `c` (a subquery of calls rows), newest first. */
function callPageSelect(from: SQL): SQL {
  return sql`select c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.status, c.started_at, c.ended_at,
          c.duration_ms::float8 as duration_ms, c.disconnection_reason, c.sentiment, c.successful, c.summary,
          ${outcome} as outcome, c.recording_url, c.created_at, ${sortKey(callSortAt)} as sort_at
        from (${from}) c
        order by ${callSortAt} desc, c.call_id desc`;
}

/**
 * Newest first. The page is cut in an inner query and the outcome computed for its rows only: with
 * the page's row count known, PostgreSQL probes per row instead of hashing every appointment,
 * message and function call of the client (which it does when it plans for all of them).
 */
export function callPageQuery(clientId: string, filter: CallFilter, after: Cursor | undefined, limit: number): SQL {
  return callPageSelect(
    sql`select * from calls c where ${callConditions(clientId, filter, after)} order by ${callSortAt} desc, c.call_id desc limit ${limit}`,
  );
}

/**
 * How many of the newest calls (after the cursor, within the other filters) a text search first
 * looks through for a page of matches.
 */
export const SEARCH_WINDOW_CALLS = 2_000;

/**
 * A text search, in two steps. Under row-level security the match cannot use the GIN index (see
 * migration 0021), so the page is first sought among the newest SEARCH_WINDOW_CALLS calls in list
 * order: a word in many calls fills its page there. A full page from that window is exactly the
 * page (every later match is older than all of it). Otherwise the word is rare: the page is then
 * read from the calls that calls_search_matches (the GIN index, for the client in the
 * transaction's app.client_id) names, which are few. Either way each row still passes this
 * transaction's row-level security and every other filter.
 */
export function callSearchQueries(clientId: string, filter: CallFilter & { q: string }, after: Cursor | undefined, limit: number): [SQL, SQL] {
  const rest = callConditions(clientId, { ...filter, q: undefined }, after);
  const order = sql`order by ${callSortAt} desc, c.call_id desc`;
  const recent = callPageSelect(
    sql`select * from (select * from calls c where ${rest} ${order} limit ${SEARCH_WINDOW_CALLS}) c
         where ${searchCondition(filter.q)} ${order} limit ${limit}`,
  );
  const matches = callPageSelect(
    sql`select * from calls c
         where ${rest} and c.call_id in (select m.call_id from calls_search_matches(${textQuery(filter.q)}) m)
         ${order} limit ${limit}`,
  );
  return [recent, matches];
}

/** A page of calls; must run in a tenant transaction (withTenant), as the text search reads its setting. */
export async function listCallRows(tx: Tx, clientId: string, filter: CallFilter, after: Cursor | undefined, limit: number): Promise<CallRow[]> {
  const { q } = filter;
  if (q === undefined || !isTextSearch(q)) return sqlRows<CallRow>(tx, callPageQuery(clientId, filter, after, limit));
  const [recent, matches] = callSearchQueries(clientId, { ...filter, q }, after, limit);
  const page = await sqlRows<CallRow>(tx, recent);
  if (page.length === limit) return page;
  return sqlRows<CallRow>(tx, matches);
}

export interface CallDetailRow extends CallRow {
  call_type: string | null;
  customer_id: string | null;
  transcript: string | null;
  transcript_object: unknown;
  analysis: unknown;
  public_log_url: string | null;
  metadata: unknown;
}

export async function findCallRow(tx: Tx, clientId: string, callId: string): Promise<CallDetailRow | undefined> {
  const [row] = await sqlRows<CallDetailRow>(
    tx,
    sql`select c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.status, c.started_at, c.ended_at,
          c.duration_ms::float8 as duration_ms, c.disconnection_reason, c.sentiment, c.successful, c.summary,
          ${outcome} as outcome, c.recording_url, c.created_at, ${sortKey(callSortAt)} as sort_at,
          c.call_type, c.customer_id::text as customer_id, c.transcript, c.transcript_object, c.analysis,
          c.public_log_url, c.metadata
        from calls c
        where c.client_id = ${clientId} and c.call_id = ${callId}`,
  );
  return row;
}

export interface EventRow {
  id: string;
  event: string;
  received_at: Date | string;
}

export async function callEventRows(tx: Tx, clientId: string, callId: string): Promise<EventRow[]> {
  return sqlRows<EventRow>(
    tx,
    sql`select id::text as id, event, received_at from call_events
        where client_id = ${clientId} and call_id = ${callId} order by received_at, id`,
  );
}

export interface FunctionCallRow {
  id: string;
  name: string;
  args: unknown;
  outcome: string;
  error_code: string | null;
  latency_ms: number;
  created_at: Date | string;
}

export async function functionCallRows(tx: Tx, clientId: string, callId: string): Promise<FunctionCallRow[]> {
  return sqlRows<FunctionCallRow>(
    tx,
    sql`select id::text as id, name, args, outcome, error_code, latency_ms, created_at from function_calls
        where client_id = ${clientId} and call_id = ${callId} order by created_at, id`,
  );
}

export interface AppointmentRow {
  id: string;
  call_id: string | null;
  customer_id: string | null;
  starts_at: Date | string;
  ends_at: Date | string;
  status: string;
  provider: string;
  provider_event_id: string | null;
  customer_name: string | null;
  customer_phone: string | null;
  customer_email: string | null;
  reason: string | null;
  created_at: Date | string;
  sort_at: string;
}

const appointmentColumns = sql`a.id::text as id, a.call_id, a.customer_id::text as customer_id, a.starts_at, a.ends_at, a.status,
  a.provider, a.provider_event_id, a.customer_name, a.customer_phone, a.customer_email, a.reason, a.created_at,
  ${sortKey(sql`a.starts_at`)} as sort_at`;

export async function callAppointmentRows(tx: Tx, clientId: string, callId: string): Promise<AppointmentRow[]> {
  return sqlRows<AppointmentRow>(
    tx,
    sql`select ${appointmentColumns} from appointments a
        where a.client_id = ${clientId} and a.call_id = ${callId} order by a.created_at desc, a.id desc`,
  );
}

export interface AppointmentFilter {
  status?: 'booked' | 'cancelled' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  order: 'asc' | 'desc';
}

export async function listAppointmentRows(
  tx: Tx,
  clientId: string,
  filter: AppointmentFilter,
  after: Cursor | undefined,
  limit: number,
): Promise<AppointmentRow[]> {
  const conditions: SQL[] = [sql`a.client_id = ${clientId}`];
  if (filter.status) conditions.push(sql`a.status = ${filter.status}`);
  if (filter.from) conditions.push(sql`a.starts_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) conditions.push(sql`a.starts_at < ${filter.to.toISOString()}::timestamptz`);
  const asc = filter.order === 'asc';
  if (after) {
    conditions.push(
      asc
        ? sql`(a.starts_at, a.id) > (${after.at}::timestamptz, ${after.id}::uuid)`
        : sql`(a.starts_at, a.id) < (${after.at}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const order = asc ? sql`a.starts_at asc, a.id asc` : sql`a.starts_at desc, a.id desc`;
  return sqlRows<AppointmentRow>(
    tx,
    sql`select ${appointmentColumns} from appointments a where ${sql.join(conditions, sql` and `)} order by ${order} limit ${limit}`,
  );
}

export interface MessageRow {
  id: string;
  call_id: string | null;
  channel: string;
  kind: string;
  provider: string;
  to_address: string;
  from_address: string | null;
  subject: string | null;
  body: string;
  status: string;
  error_code: string | null;
  error_message: string | null;
  segments: number | null;
  attempts: number;
  sent_at: Date | string | null;
  delivered_at: Date | string | null;
  created_at: Date | string;
  sort_at: string;
}

const messageColumns = sql`m.id::text as id, m.call_id, m.channel, m.kind, m.provider, m.to_address, m.from_address, m.subject,
  m.body, m.status, m.error_code, m.error_message, m.segments, m.attempts, m.sent_at, m.delivered_at, m.created_at,
  ${sortKey(sql`m.created_at`)} as sort_at`;

export async function callMessageRows(tx: Tx, clientId: string, callId: string): Promise<MessageRow[]> {
  return sqlRows<MessageRow>(
    tx,
    sql`select ${messageColumns} from messages m where m.client_id = ${clientId} and m.call_id = ${callId} order by m.created_at, m.id`,
  );
}

export interface MessageFilter {
  status?: string | undefined;
  channel?: 'sms' | 'email' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Newest first. */
export async function listMessageRows(
  tx: Tx,
  clientId: string,
  filter: MessageFilter,
  after: Cursor | undefined,
  limit: number,
): Promise<MessageRow[]> {
  const conditions: SQL[] = [sql`m.client_id = ${clientId}`];
  if (filter.status) conditions.push(sql`m.status = ${filter.status}`);
  if (filter.channel) conditions.push(sql`m.channel = ${filter.channel}`);
  if (filter.from) conditions.push(sql`m.created_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) conditions.push(sql`m.created_at < ${filter.to.toISOString()}::timestamptz`);
  if (after) conditions.push(sql`(m.created_at, m.id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  return sqlRows<MessageRow>(
    tx,
    sql`select ${messageColumns} from messages m where ${sql.join(conditions, sql` and `)}
        order by m.created_at desc, m.id desc limit ${limit}`,
  );
}

export async function findAppointmentRow(tx: Tx, clientId: string, id: string): Promise<AppointmentRow | undefined> {
  const [row] = await sqlRows<AppointmentRow>(tx, sql`select ${appointmentColumns} from appointments a where a.client_id = ${clientId} and a.id = ${id}::uuid`);
  return row;
}

export interface CustomerRow {
  id: string;
  phone: string;
  name: string | null;
  email: string | null;
  opted_out_at: Date | string | null;
  last_call_at: Date | string | null;
  call_count: number;
  created_at: Date | string;
  sort_at: string;
}

/**
 * A customer's place in the list: the last call, or when it was first seen for one never called in
 * (the stored column generated as coalesce(last_call_at, created_at), migration 0020, an index
 * bound under row-level security where the expression is none).
 */
const customerSortAt = sql`cu.sort_at`;

const customerColumns = sql`cu.id::text as id, cu.phone, cu.name, cu.email, cu.opted_out_at, cu.last_call_at, cu.call_count,
  cu.created_at, ${sortKey(customerSortAt)} as sort_at`;

/**
 * Most recent caller first. `q`: a phone-like text matches the number's digits, anything else the
 * name (case-insensitive, literally).
 */
export function customerPageQuery(clientId: string, q: string | undefined, after: Cursor | undefined, limit: number): SQL {
  const conditions: SQL[] = [sql`cu.client_id = ${clientId}`];
  if (q !== undefined) {
    conditions.push(
      PHONE_LIKE.test(q) && /\d/.test(q)
        ? sql`regexp_replace(cu.phone, '\\D', '', 'g') like ${likePattern(q.replace(/\D/g, ''))}`
        : sql`cu.name ilike ${likePattern(q)}`,
    );
  }
  if (after) conditions.push(sql`(${customerSortAt}, cu.id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  return sql`select ${customerColumns} from customers cu where ${sql.join(conditions, sql` and `)}
        order by ${customerSortAt} desc, cu.id desc limit ${limit}`;
}

export async function listCustomerRows(tx: Tx, clientId: string, q: string | undefined, after: Cursor | undefined, limit: number): Promise<CustomerRow[]> {
  return sqlRows<CustomerRow>(tx, customerPageQuery(clientId, q, after, limit));
}

export async function findCustomerRow(tx: Tx, clientId: string, id: string): Promise<CustomerRow | undefined> {
  const [row] = await sqlRows<CustomerRow>(tx, sql`select ${customerColumns} from customers cu where cu.client_id = ${clientId} and cu.id = ${id}::uuid`);
  return row;
}

/** Appointments and messages per customer, for the customers of one page (one pass over each table). */
export async function customerCounts(tx: Tx, clientId: string, ids: string[]): Promise<Map<string, { appointments: number; messages: number }>> {
  const counts = new Map<string, { appointments: number; messages: number }>(ids.map((id) => [id, { appointments: 0, messages: 0 }]));
  if (ids.length === 0) return counts;
  const list = sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
  const rows = await sqlRows<{ customer_id: string; kind: 'appointments' | 'messages'; n: number }>(
    tx,
    sql`select customer_id::text as customer_id, 'appointments' as kind, count(*)::int as n from appointments
          where client_id = ${clientId} and customer_id in (${list}) group by customer_id
        union all
        select customer_id::text, 'messages', count(*)::int from messages
          where client_id = ${clientId} and customer_id in (${list}) group by customer_id`,
  );
  for (const row of rows) {
    const entry = counts.get(row.customer_id);
    if (entry) entry[row.kind] = Number(row.n);
  }
  return counts;
}

/** How many of each a customer page shows (newest first); the counts say whether there are more. */
export const CUSTOMER_DETAIL_ROWS = 100;

export async function customerCallRows(tx: Tx, clientId: string, customerId: string, limit: number): Promise<CallRow[]> {
  return sqlRows<CallRow>(
    tx,
    sql`select c.call_id, c.agent_id, c.direction, c.from_number, c.to_number, c.status, c.started_at, c.ended_at,
          c.duration_ms::float8 as duration_ms, c.disconnection_reason, c.sentiment, c.successful, c.summary,
          ${outcome} as outcome, c.recording_url, c.created_at, ${sortKey(callSortAt)} as sort_at
        from (select * from calls c where c.client_id = ${clientId} and c.customer_id = ${customerId}::uuid
               order by ${callSortAt} desc, c.call_id desc limit ${limit}) c
        order by ${callSortAt} desc, c.call_id desc`,
  );
}

export async function customerAppointmentRows(tx: Tx, clientId: string, customerId: string, limit: number): Promise<AppointmentRow[]> {
  return sqlRows<AppointmentRow>(
    tx,
    sql`select ${appointmentColumns} from appointments a where a.client_id = ${clientId} and a.customer_id = ${customerId}::uuid
        order by a.starts_at desc, a.id desc limit ${limit}`,
  );
}

export async function customerMessageRows(tx: Tx, clientId: string, customerId: string, limit: number): Promise<MessageRow[]> {
  return sqlRows<MessageRow>(
    tx,
    sql`select ${messageColumns} from messages m where m.client_id = ${clientId} and m.customer_id = ${customerId}::uuid
        order by m.created_at desc, m.id desc limit ${limit}`,
  );
}
