/**
 * Request and response shapes of the client API. The OpenAPI document is generated from these, so
 * every field carries its meaning. Timestamps leave as ISO-8601 strings in UTC.
 */
import { z } from 'zod';
import { callOutcomes } from '../analytics/call-outcome.ts';

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export const clientParams = z.object({
  clientId: z.string().min(1).max(100).describe('The client id (as in the webhook URL).'),
});

export const callParams = clientParams.extend({
  callId: z.string().min(1).max(200).describe("Retell's call id."),
});

/**
 * A point in time: an ISO-8601 date-time with offset, or a date (YYYY-MM-DD) read in the client's
 * timezone. A date given as `to` includes that whole day.
 */
export const timeBound = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('ISO-8601 date-time with offset, or YYYY-MM-DD in the client timezone (a `to` date includes that day).');

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe(`Page size, 1-${MAX_PAGE_SIZE}.`),
  cursor: z.string().min(1).max(1000).optional().describe('`next_cursor` from the previous page, unchanged.'),
};

export const sentiments = ['positive', 'negative', 'neutral', 'unknown'] as const;

export const callFilters = {
  from: timeBound.optional().describe('Calls that started at or after this time.'),
  to: timeBound.optional().describe('Calls that started before this time (a date includes that day).'),
  outcome: z.enum(callOutcomes).optional().describe('booked | message | voicemail | no_answer | other (see the outcome rule).'),
  sentiment: z.enum(sentiments).optional().describe("Retell's user sentiment; `unknown` also matches calls not analysed yet."),
  direction: z.enum(['inbound', 'outbound']).optional(),
  agent: z.string().min(1).max(200).optional().describe('Retell agent id.'),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Search. Words: full-text search over the call's summary and transcript (English stemming, so `booking` finds `booked`; web-search syntax: \"a phrase\", `or`, `-word`). " +
        "A phone-like text (digits, spaces, `()+.-`): the customer's number (the caller, or who was called on an outbound call), digits only. A text with no letter or digit: the summary, literally.",
    ),
};

export const listCallsQuery = z.object({ ...pageQuery, ...callFilters });
export type ListCallsQuery = z.infer<typeof listCallsQuery>;

export const exportCallsQuery = z.object(callFilters);
export type ExportCallsQuery = z.infer<typeof exportCallsQuery>;

const isoTime = z.string().describe('ISO-8601 date-time, UTC.');
const nullableTime = isoTime.nullable();

export const callSummary = z.object({
  call_id: z.string(),
  agent_id: z.string().nullable(),
  direction: z.string().nullable().describe('inbound | outbound'),
  from_number: z.string().nullable(),
  to_number: z.string().nullable(),
  status: z.string().nullable().describe("Retell's call_status: registered | not_connected | ongoing | ended | error"),
  started_at: nullableTime,
  ended_at: nullableTime,
  duration_ms: z.number().nullable(),
  disconnection_reason: z.string().nullable(),
  sentiment: z.string().nullable(),
  successful: z.boolean().nullable(),
  summary: z.string().nullable(),
  outcome: z.enum(callOutcomes),
  recording_url: z.string().nullable(),
  created_at: isoTime,
});
export type CallSummary = z.infer<typeof callSummary>;

export const callPage = z.object({
  data: z.array(callSummary),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});

export const appointmentSchema = z.object({
  id: z.string(),
  call_id: z.string().nullable(),
  customer_id: z.string().nullable(),
  starts_at: isoTime,
  ends_at: isoTime,
  status: z.string().describe('booked | cancelled'),
  provider: z.string().describe("internal | zoho | sandbox (a test client's Zoho calendar without calendar.api_base_url: kept in our own book, nothing sent)"),
  provider_event_id: z.string().nullable(),
  customer_name: z.string().nullable(),
  customer_phone: z.string().nullable(),
  customer_email: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: isoTime,
});
export type AppointmentView = z.infer<typeof appointmentSchema>;

export const messageSchema = z.object({
  id: z.string(),
  call_id: z.string().nullable(),
  channel: z.string().describe('sms | email'),
  kind: z.string().describe('confirmation | followup | summary | caller_email | message_taken | link | …'),
  provider: z.string(),
  to_address: z.string(),
  from_address: z.string().nullable(),
  subject: z.string().nullable(),
  body: z.string(),
  status: z.string().describe('pending | sending | sent | delivered | failed | unknown | suppressed | sandbox | held'),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  segments: z.number().nullable(),
  attempts: z.number(),
  sent_at: nullableTime,
  delivered_at: nullableTime,
  created_at: isoTime,
});
export type MessageView = z.infer<typeof messageSchema>;

export const functionCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  args: z.unknown().describe('Arguments as stored (secrets removed).'),
  outcome: z.string().describe('ok | error'),
  error_code: z.string().nullable(),
  latency_ms: z.number(),
  created_at: isoTime,
});
export type FunctionCallView = z.infer<typeof functionCallSchema>;

export const callEventSchema = z.object({
  id: z.string(),
  event: z.string(),
  received_at: isoTime,
});
export type CallEventView = z.infer<typeof callEventSchema>;

export const callDetail = callSummary.extend({
  call_type: z.string().nullable(),
  customer_id: z.string().nullable(),
  transcript: z.string().nullable(),
  transcript_object: z.unknown().describe("Retell's utterances: [{ role, content, words }]."),
  analysis: z.unknown().describe("Retell's call_analysis: call_summary, user_sentiment, call_successful, in_voicemail, custom_analysis_data."),
  public_log_url: z.string().nullable(),
  metadata: z.unknown(),
  events: z.array(callEventSchema).describe('Webhook events received for this call, oldest first.'),
  function_calls: z.array(functionCallSchema).describe('Live function invocations, oldest first.'),
  messages: z.array(messageSchema).describe('SMS and email about this call, oldest first.'),
  appointment: appointmentSchema.nullable().describe('The appointment this call booked (the latest one if several).'),
});
export type CallDetail = z.infer<typeof callDetail>;

export const listAppointmentsQuery = z.object({
  ...pageQuery,
  status: z.enum(['booked', 'cancelled']).optional(),
  from: timeBound.optional().describe('Appointments starting at or after this time.'),
  to: timeBound.optional().describe('Appointments starting before this time (a date includes that day).'),
  order: z.enum(['asc', 'desc']).default('desc').describe('By start time: `asc` for upcoming first, `desc` (default) for latest first.'),
});
export type ListAppointmentsQuery = z.infer<typeof listAppointmentsQuery>;

export const appointmentPage = z.object({ data: z.array(appointmentSchema), next_cursor: z.string().nullable() });

export const listMessagesQuery = z.object({
  ...pageQuery,
  status: z.string().min(1).max(32).optional().describe('pending | sending | sent | delivered | failed | unknown | suppressed | sandbox | held'),
  channel: z.enum(['sms', 'email']).optional(),
  from: timeBound.optional().describe('Messages created at or after this time.'),
  to: timeBound.optional().describe('Messages created before this time (a date includes that day).'),
});
export type ListMessagesQuery = z.infer<typeof listMessagesQuery>;

export const messagePage = z.object({ data: z.array(messageSchema), next_cursor: z.string().nullable() });

export const settingsSchema = z.object({
  client_id: z.string(),
  name: z.string(),
  status: z.string().describe('active | disabled | invalid'),
  source: z.string().describe('file | db'),
  config: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The client configuration (config/client.schema.json) with every secret masked as ••••1234; null when invalid.'),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).describe('Why the configuration is invalid, if it is.'),
  retell: z.object({
    webhook_url: z.string().describe("Paste into the Retell agent's webhook URL."),
    function_url_template: z.string().describe('Custom function URL; replace {name} with the function name.'),
    function_urls: z.array(z.object({ name: z.string(), url: z.string() })).describe("URL of every function this client's agent has (built-ins switched on, static and http ones)."),
  }),
});
export type SettingsView = z.infer<typeof settingsSchema>;

export const appointmentParams = clientParams.extend({
  appointmentId: z.string().min(1).max(100).describe('The appointment id (a uuid; anything else is 404).'),
});

export const rescheduleBody = z
  .object({
    start: z
      .string()
      .min(1)
      .max(64)
      .describe("New start: ISO-8601 with offset, or local wall-clock time without one (read in the client's timezone). The length stays the client's `calendar.appointment_minutes`."),
  })
  .strict();

export const appointmentChange = z.object({
  appointment: appointmentSchema,
  changed: z.boolean().describe('false when the appointment already was so (a retried or double-clicked request changes nothing).'),
});

export const freeSlotsQuery = z.object({
  date: z.iso.date().describe("A day (YYYY-MM-DD) in the client's timezone."),
});

export const freeSlotsSchema = z.object({
  timezone: z.string().describe('IANA zone the slots are local to.'),
  date: z.string(),
  slots: z
    .array(z.object({ start: z.string().describe('ISO-8601 with the client offset.'), end: z.string() }))
    .describe('Bookable starts that day under the business hours, holidays, notice and existing appointments.'),
});
export type FreeSlotsView = z.infer<typeof freeSlotsSchema>;

export const listCustomersQuery = z.object({
  ...pageQuery,
  q: z.string().trim().min(1).max(100).optional().describe('A phone-like text matches the number (digits only); other text the name.'),
});
export type ListCustomersQuery = z.infer<typeof listCustomersQuery>;

export const customerSummary = z.object({
  id: z.string(),
  phone: z.string().describe('E.164.'),
  name: z.string().nullable(),
  email: z.string().nullable(),
  opted_out_at: nullableTime.describe('When they texted STOP (or the provider reported it); null when they may be texted.'),
  last_call_at: nullableTime,
  call_count: z.number(),
  appointment_count: z.number(),
  message_count: z.number(),
  created_at: isoTime,
});
export type CustomerSummary = z.infer<typeof customerSummary>;

export const customerPage = z.object({ data: z.array(customerSummary), next_cursor: z.string().nullable() });

export const customerParams = clientParams.extend({
  customerId: z.string().min(1).max(100).describe('The customer id (a uuid; anything else is 404).'),
});

export const customerDetail = customerSummary.extend({
  calls: z.array(callSummary).describe('Newest first, at most 100.'),
  appointments: z.array(appointmentSchema).describe('Latest start first, at most 100.'),
  messages: z.array(messageSchema).describe('Newest first, at most 100.'),
});
export type CustomerDetail = z.infer<typeof customerDetail>;
