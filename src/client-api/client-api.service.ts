/**
 * The client API's reads: calls, one call in full, appointments, messages, the CSV export and the
 * client's settings. Every read runs in the client's own tenant transaction; the client id comes
 * from the authorised URL and is passed first.
 */
import { DateTime } from 'luxon';
import type { Role } from '../auth/auth.schemas.ts';
import type { ClientRecord } from '../clients/client.schema.ts';
import { listSecretFields, type ClientConfig } from '../clients/client.schema.ts';
import { enabledFunctions } from '../functions/function-catalog.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { maskSecret as maskSecretValue } from '../platform/secrets.ts';
import {
  callAppointmentRows,
  callEventRows,
  callMessageRows,
  findCallRow,
  functionCallRows,
  listAppointmentRows,
  listCallRows,
  listMessageRows,
  listCustomerRows,
  findCustomerRow,
  customerCounts,
  customerCallRows,
  customerAppointmentRows,
  customerMessageRows,
  CUSTOMER_DETAIL_ROWS,
  type CustomerRow,
  type AppointmentRow,
  type CallFilter,
  type CallRow,
  type MessageRow,
} from './client-api.repo.ts';
import type {
  AppointmentView,
  CallDetail,
  CallSummary,
  ExportCallsQuery,
  ListAppointmentsQuery,
  ListCallsQuery,
  ListMessagesQuery,
  ListCustomersQuery,
  CustomerSummary,
  CustomerDetail,
  MessageView,
  SettingsView,
} from './client-api.schemas.ts';
import { decodeCursor, encodeCursor, type CursorKind } from './cursor.ts';
import { csvRow } from './csv.ts';
import { publicUrls } from '../platform/public-urls.ts';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Rows read per transaction by the CSV export: memory stays flat whatever the total. */
export const CSV_BATCH_ROWS = 1_000;

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

/**
 * A query bound as an instant. Dates (YYYY-MM-DD) are days in the client's timezone; a date given
 * as the upper bound includes that day. Date-times carry their own offset.
 */
export function resolveTimeBound(value: string | undefined, timezone: string, side: 'from' | 'to'): Date | undefined {
  if (value === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = DateTime.fromISO(value, { zone: timezone }).startOf('day');
    return (side === 'to' ? day.plus({ days: 1 }) : day).toJSDate();
  }
  return new Date(value);
}

function checkRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from.getTime() >= to.getTime()) throw new AppError('invalid_payload', 'from: must be before to');
}

export function callFilterFrom(query: ExportCallsQuery, timezone: string): CallFilter {
  const from = resolveTimeBound(query.from, timezone, 'from');
  const to = resolveTimeBound(query.to, timezone, 'to');
  checkRange(from, to);
  return {
    from,
    to,
    outcome: query.outcome,
    sentiment: query.sentiment,
    direction: query.direction,
    agent: query.agent,
    q: query.q,
  };
}

function toCallSummary(row: CallRow): CallSummary {
  return {
    call_id: row.call_id,
    agent_id: row.agent_id,
    direction: row.direction,
    from_number: row.from_number,
    to_number: row.to_number,
    status: row.status,
    started_at: isoOrNull(row.started_at),
    ended_at: isoOrNull(row.ended_at),
    duration_ms: row.duration_ms,
    disconnection_reason: row.disconnection_reason,
    sentiment: row.sentiment,
    successful: row.successful,
    summary: row.summary,
    outcome: row.outcome,
    recording_url: row.recording_url,
    created_at: iso(row.created_at),
  };
}

export function appointmentView(row: AppointmentRow): AppointmentView {
  return {
    id: row.id,
    call_id: row.call_id,
    customer_id: row.customer_id,
    starts_at: iso(row.starts_at),
    ends_at: iso(row.ends_at),
    status: row.status,
    provider: row.provider,
    provider_event_id: row.provider_event_id,
    customer_name: row.customer_name,
    customer_phone: row.customer_phone,
    customer_email: row.customer_email,
    reason: row.reason,
    created_at: iso(row.created_at),
  };
}

function toCustomer(row: CustomerRow, counts: { appointments: number; messages: number } | undefined): CustomerSummary {
  return {
    id: row.id,
    phone: row.phone,
    name: row.name,
    email: row.email,
    opted_out_at: isoOrNull(row.opted_out_at),
    last_call_at: isoOrNull(row.last_call_at),
    call_count: Number(row.call_count),
    appointment_count: counts?.appointments ?? 0,
    message_count: counts?.messages ?? 0,
    created_at: iso(row.created_at),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toMessage(row: MessageRow): MessageView {
  return {
    id: row.id,
    call_id: row.call_id,
    channel: row.channel,
    kind: row.kind,
    provider: row.provider,
    to_address: row.to_address,
    from_address: row.from_address,
    subject: row.subject,
    body: row.body,
    status: row.status,
    error_code: row.error_code,
    error_message: row.error_message,
    segments: row.segments,
    attempts: row.attempts,
    sent_at: isoOrNull(row.sent_at),
    delivered_at: isoOrNull(row.delivered_at),
    created_at: iso(row.created_at),
  };
}

/** Turns `limit + 1` rows into a page and the cursor after its last row. */
function pageOf<R extends { sort_at: string }, T>(
  rows: R[],
  limit: number,
  kind: CursorKind,
  idOf: (row: R) => string,
  view: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(view),
    next_cursor: more && last ? encodeCursor(kind, { at: last.sort_at, id: idOf(last) }) : null,
  };
}

const CSV_COLUMNS = [
  'call_id',
  'started_at',
  'ended_at',
  'duration_seconds',
  'direction',
  'from_number',
  'to_number',
  'agent_id',
  'status',
  'disconnection_reason',
  'outcome',
  'sentiment',
  'successful',
  'summary',
] as const;

function csvLine(row: CallRow): string {
  return csvRow([
    row.call_id,
    isoOrNull(row.started_at),
    isoOrNull(row.ended_at),
    row.duration_ms === null ? null : Math.round(row.duration_ms / 100) / 10,
    row.direction,
    row.from_number,
    row.to_number,
    row.agent_id,
    row.status,
    row.disconnection_reason,
    row.outcome,
    row.sentiment,
    row.successful,
    row.summary,
  ]);
}

const SECRET_KEY_NAME = /secret|token|password|api_?key|auth_?key|private/i;

/**
 * The config with every secret masked: the fields the schema declares secret, any key whose name
 * says secret, and, as a last guard, any string that contains a secret value. The last 4
 * characters (to tell two keys apart) are shown to admins only (`showLast4`).
 */
export function maskClientConfig(config: ClientRecord['config'] & object, options: { showLast4: boolean } = { showLast4: false }): Record<string, unknown> {
  const maskSecret = (value: string) => maskSecretValue(value, options);
  const clone = structuredClone(config) as unknown as Record<string, unknown>;
  const secrets = listSecretFields(config as ClientConfig);
  for (const { path } of secrets) {
    let node: unknown = clone;
    for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[key];
    const leaf = path.at(-1);
    if (node && typeof node === 'object' && leaf !== undefined) {
      const holder = node as Record<string | number, unknown>;
      if (typeof holder[leaf] === 'string') holder[leaf] = maskSecret(holder[leaf]);
    }
  }
  const values = secrets.map((secret) => secret.value).filter((value) => value.length >= 4);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return values.some((value) => node.includes(value)) ? maskSecret(node) : node;
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) {
        out[key] = typeof value === 'string' && SECRET_KEY_NAME.test(key) && !value.startsWith('••••') ? maskSecret(value) : walk(value);
      }
      return out;
    }
    return node;
  };
  return walk(clone) as Record<string, unknown>;
}

export function createClientApiService(deps: { tenancy: Tenancy; publicBaseUrl: string }) {
  const { tenancy } = deps;
  return {
    async listCalls(clientId: string, timezone: string, query: ListCallsQuery): Promise<Page<CallSummary>> {
      const filter = callFilterFrom(query, timezone);
      const after = query.cursor === undefined ? undefined : decodeCursor('calls', query.cursor);
      const rows = await tenancy.withTenant(clientId, (tx) => listCallRows(tx, clientId, filter, after, query.limit + 1));
      return pageOf(rows, query.limit, 'calls', (row) => row.call_id, toCallSummary);
    },

    async getCall(clientId: string, callId: string): Promise<CallDetail> {
      return tenancy.withTenant(clientId, async (tx) => {
        const call = await findCallRow(tx, clientId, callId);
        if (!call) throw new AppError('not_found', `No call ${callId}`);
        const [events, functionCalls, messages, appointments] = [
          await callEventRows(tx, clientId, callId),
          await functionCallRows(tx, clientId, callId),
          await callMessageRows(tx, clientId, callId),
          await callAppointmentRows(tx, clientId, callId),
        ];
        const appointment = appointments[0];
        return {
          ...toCallSummary(call),
          call_type: call.call_type,
          customer_id: call.customer_id,
          transcript: call.transcript,
          transcript_object: call.transcript_object ?? null,
          analysis: call.analysis ?? null,
          public_log_url: call.public_log_url,
          metadata: call.metadata ?? null,
          events: events.map((event) => ({ id: event.id, event: event.event, received_at: iso(event.received_at) })),
          function_calls: functionCalls.map((row) => ({
            id: row.id,
            name: row.name,
            args: row.args ?? null,
            outcome: row.outcome,
            error_code: row.error_code,
            latency_ms: row.latency_ms,
            created_at: iso(row.created_at),
          })),
          messages: messages.map(toMessage),
          appointment: appointment ? appointmentView(appointment) : null,
        };
      });
    },

    async listAppointments(clientId: string, timezone: string, query: ListAppointmentsQuery): Promise<Page<AppointmentView>> {
      const from = resolveTimeBound(query.from, timezone, 'from');
      const to = resolveTimeBound(query.to, timezone, 'to');
      checkRange(from, to);
      const kind = query.order === 'asc' ? 'appointments-asc' : 'appointments-desc';
      const after = query.cursor === undefined ? undefined : decodeCursor(kind, query.cursor);
      const rows = await tenancy.withTenant(clientId, (tx) =>
        listAppointmentRows(tx, clientId, { status: query.status, from, to, order: query.order }, after, query.limit + 1),
      );
      return pageOf(rows, query.limit, kind, (row) => row.id, appointmentView);
    },

    async listMessages(clientId: string, timezone: string, query: ListMessagesQuery): Promise<Page<MessageView>> {
      const from = resolveTimeBound(query.from, timezone, 'from');
      const to = resolveTimeBound(query.to, timezone, 'to');
      checkRange(from, to);
      const after = query.cursor === undefined ? undefined : decodeCursor('messages', query.cursor);
      const rows = await tenancy.withTenant(clientId, (tx) =>
        listMessageRows(tx, clientId, { status: query.status, channel: query.channel, from, to }, after, query.limit + 1),
      );
      return pageOf(rows, query.limit, 'messages', (row) => row.id, toMessage);
    },

    /** The client's callers, most recent first, with how many calls, appointments and messages each has. */
    async listCustomers(clientId: string, query: ListCustomersQuery): Promise<Page<CustomerSummary>> {
      const after = query.cursor === undefined ? undefined : decodeCursor('customers', query.cursor);
      return tenancy.withTenant(clientId, async (tx) => {
        const rows = await listCustomerRows(tx, clientId, query.q, after, query.limit + 1);
        const counts = await customerCounts(tx, clientId, rows.slice(0, query.limit).map((row) => row.id));
        return pageOf(rows, query.limit, 'customers', (row) => row.id, (row) => toCustomer(row, counts.get(row.id)));
      });
    },

    /** One caller: their calls, appointments and messages (newest first, at most CUSTOMER_DETAIL_ROWS each). */
    async getCustomer(clientId: string, customerId: string): Promise<CustomerDetail> {
      if (!UUID.test(customerId)) throw new AppError('not_found', 'No such customer');
      return tenancy.withTenant(clientId, async (tx) => {
        const row = await findCustomerRow(tx, clientId, customerId);
        if (!row) throw new AppError('not_found', 'No such customer');
        const counts = await customerCounts(tx, clientId, [row.id]);
        const calls = await customerCallRows(tx, clientId, row.id, CUSTOMER_DETAIL_ROWS);
        const appointments = await customerAppointmentRows(tx, clientId, row.id, CUSTOMER_DETAIL_ROWS);
        const messages = await customerMessageRows(tx, clientId, row.id, CUSTOMER_DETAIL_ROWS);
        return {
          ...toCustomer(row, counts.get(row.id)),
          calls: calls.map(toCallSummary),
          appointments: appointments.map(appointmentView),
          messages: messages.map(toMessage),
        };
      });
    },

    /**
     * The calls matching `filter` as CSV text chunks, newest first: a header, then one chunk per
     * batch of CSV_BATCH_ROWS rows, each read in its own short transaction and resumed from the
     * last row's key, so memory stays flat for any number of rows and no transaction stays open
     * while a slow client downloads.
     */
    async *exportCallsCsv(clientId: string, filter: CallFilter, batchRows = CSV_BATCH_ROWS): AsyncGenerator<string> {
      yield csvRow(CSV_COLUMNS);
      let after: { at: string; id: string } | undefined;
      for (;;) {
        const cursor = after;
        const rows = await tenancy.withTenant(clientId, (tx) => listCallRows(tx, clientId, filter, cursor, batchRows));
        if (rows.length === 0) return;
        let chunk = '';
        for (const row of rows) chunk += csvLine(row);
        yield chunk;
        const last = rows.at(-1);
        if (!last || rows.length < batchRows) return;
        after = { at: last.sort_at, id: last.call_id };
      }
    },

    /** `role`: a `client_viewer` sees masks without the last 4 characters; admins see them. */
    settings(record: ClientRecord, role: Role): SettingsView {
      const webhookUrl = publicUrls(deps.publicBaseUrl).retellWebhook(record.id);
      const functions = record.config ? enabledFunctions(record.config).map((fn) => fn.name) : [];
      return {
        client_id: record.id,
        name: record.config?.name ?? record.id,
        status: record.status,
        source: record.source,
        config: record.config ? maskClientConfig(record.config, { showLast4: role !== 'client_viewer' }) : null,
        issues: record.issues.map((issue) => ({ path: issue.path, message: issue.message })),
        retell: {
          webhook_url: webhookUrl,
          function_url_template: `${webhookUrl}/functions/{name}`,
          function_urls: functions.map((name) => ({ name, url: `${webhookUrl}/functions/${encodeURIComponent(name)}` })),
        },
      };
    },
  };
}

export type ClientApiService = ReturnType<typeof createClientApiService>;
