import { IANAZone } from 'luxon';
import { z } from 'zod';
import { brandingSchema } from './branding.ts';

/*
 * The one schema for config/clients/{client_id}.json. Keys are snake_case because the files are
 * written by hand and shared with non-TypeScript tooling. Every object is strict so a typo fails
 * validation instead of silently falling back to a default.
 */

export const clientStatuses = ['active', 'disabled'] as const;
export type ClientStatus = (typeof clientStatuses)[number];

export const clientEnvironments = ['test', 'live'] as const;
export type ClientEnvironment = (typeof clientEnvironments)[number];

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

export const zohoDataCenters = ['us', 'eu', 'in', 'au', 'jp', 'cn', 'ca', 'sa', 'uk'] as const;
export type ZohoDataCenter = (typeof zohoDataCenters)[number];

export const calendarProviders = ['zoho', 'internal'] as const;
export type CalendarProvider = (typeof calendarProviders)[number];

export const smsProviders = ['text180', 'twilio'] as const;
export type SmsProvider = (typeof smsProviders)[number];

export const emailProviders = ['sendgrid', 'zoho'] as const;
export type EmailProvider = (typeof emailProviders)[number];

export const overflowPolicies = ['agent', 'reject', 'allow'] as const;
export type OverflowPolicy = (typeof overflowPolicies)[number];

export const clientIdPattern = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const envReferencePattern = /^env:([A-Z_][A-Z0-9_]*)$/;
const sealedPattern = /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/;
const e164Pattern = /^\+[1-9]\d{6,14}$/;
const timeRangePattern = /^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

/**
 * A credential. Stays a string here; the loader resolves it. Messages never echo the value.
 */
export const secretString = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (value.startsWith('env:') && !envReferencePattern.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'env: reference must name a variable like env:MY_CLIENT_API_KEY (A-Z, 0-9, _)' });
    } else if (value.startsWith('enc:') && !sealedPattern.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'malformed sealed secret; expected enc:v1:<keyId>:<iv>:<tag>:<ciphertext> from `xlnc secrets encrypt`' });
    }
  })
  .describe(
    'Secret: "env:VAR_NAME" (read from the environment), "enc:v1:…" (sealed with ENCRYPTION_KEY by `xlnc secrets encrypt`), ' +
      'or a literal value (only allowed when environment is "test").',
  );

const apiBaseUrl = z
  .url({ protocol: /^https?$/ })
  .optional()
  .describe('Override the provider endpoint (regional hosts, local fakes in tests).');

const e164 = z.string().regex(e164Pattern, 'must be an E.164 phone number like +14155550123');

const mailbox = z
  .string()
  .regex(
    /^(?:[^<>@]+<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/,
    'must be an address like hello@example.com or "Name <hello@example.com>"',
  )
  .describe('Sender: "hello@example.com" or "Business Name <hello@example.com>".');

function minutesOf(hhmm: string): number {
  const [hours = 0, minutes = 0] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

const dayHours = z
  .array(z.string().regex(timeRangePattern, 'must be a "HH:MM-HH:MM" 24-hour range'))
  .superRefine((ranges, ctx) => {
    const parsed: Array<{ start: number; end: number; index: number }> = [];
    ranges.forEach((range, index) => {
      if (!timeRangePattern.test(range)) return; // already reported by the element check
      const [start = '', end = ''] = range.split('-');
      const span = { start: minutesOf(start), end: minutesOf(end), index };
      if (span.start >= span.end) {
        ctx.addIssue({ code: 'custom', path: [index], message: 'range must end after it starts (overnight ranges are not supported)' });
        return;
      }
      parsed.push(span);
    });
    parsed.sort((a, b) => a.start - b.start);
    for (let i = 1; i < parsed.length; i += 1) {
      const previous = parsed[i - 1];
      const current = parsed[i];
      if (previous !== undefined && current !== undefined && current.start < previous.end) {
        ctx.addIssue({ code: 'custom', path: [current.index], message: `overlaps ${ranges[previous.index] ?? ''}` });
      }
    }
  })
  .describe('Open ranges in the client timezone, e.g. ["09:00-12:00", "13:00-17:00"]; an empty or missing day is closed.');

const businessHours = z
  .strictObject(Object.fromEntries(weekdays.map((day) => [day, dayHours.optional()])) as Record<Weekday, z.ZodOptional<typeof dayHours>>)
  .describe('Opening hours per day (mon..sun). Days that are missing are closed.');

// isValidZone builds an Intl.DateTimeFormat per call (~0.1 ms); thousands of clients share a few zones.
const zoneValidity = new Map<string, boolean>();
function isValidZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 1_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

const timezone = z
  .string()
  .refine(isValidZone, { message: 'must be an IANA time zone like America/New_York' })
  .describe('IANA time zone used for business hours, holidays and appointment slots.');

const zohoOauth = z.strictObject({
  client_id: z.string().min(1).describe('Zoho API console client id (e.g. 1000.ABCDEF).'),
  client_secret: secretString,
  refresh_token: secretString,
});

const retell = z.strictObject({
  api_key: secretString,
  agent_ids: z
    .array(z.string().min(1))
    .min(1)
    .describe('Retell agent ids that belong to this client; webhooks for other agents are rejected.'),
  phone_numbers: z.array(e164).default([]).describe('Numbers (E.164) answered by this client’s agents.'),
  overflow_agent_id: z.string().min(1).optional().describe('Agent that takes calls over limits.max_concurrent_calls when limits.overflow is "agent".'),
  dynamic_variables: z.record(z.string(), z.string()).optional().describe('Extra Retell dynamic variables injected on every call.'),
  api_base_url: apiBaseUrl,
});

const calendarCommon = {
  appointment_minutes: z.int().min(5).max(480).default(30).describe('Length of a booked appointment, minutes.'),
  buffer_minutes: z.int().min(0).max(240).default(0).describe('Gap kept free after each appointment, minutes.'),
  min_notice_minutes: z.int().min(0).max(43_200).default(60).describe('Earliest bookable slot is this many minutes from now.'),
  horizon_days: z.int().min(1).max(365).default(14).describe('How many days ahead slots are offered.'),
};

const calendar = z
  .discriminatedUnion('provider', [
    z.strictObject({
      provider: z.literal('zoho'),
      data_center: z.enum(zohoDataCenters).describe('Zoho data center of the account (zoho.com = us, zoho.eu = eu, …).'),
      calendar_id: z.string().min(1).describe('Zoho Calendar uid that appointments are written to.'),
      oauth: zohoOauth,
      user_email: z.email().optional().describe('Zoho user that owns the calendar, when it differs from the OAuth user.'),
      api_base_url: apiBaseUrl,
      accounts_base_url: apiBaseUrl.describe('Override the Zoho accounts (OAuth token) endpoint.'),
      ...calendarCommon,
    }),
    z.strictObject({
      provider: z.literal('internal'),
      ...calendarCommon,
    }),
  ])
  .describe('Where appointments are booked: "zoho" (Zoho Calendar) or "internal" (the platform’s own appointment book).');

const smsCommon = {
  enabled: z.boolean().default(false).describe('Send SMS follow-ups for this client.'),
  default_country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code like US')
    .default('US')
    .describe('Country assumed for caller numbers written without a country code.'),
  quiet_hours: z
    .strictObject({
      start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
      end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
    })
    .default({ start: '21:00', end: '08:00' })
    .describe('Texts due in this window (client timezone) are held until it ends. start == end disables it.'),
};

const sms = z
  .discriminatedUnion('provider', [
    z.strictObject({
      provider: z.literal('text180'),
      auth_key: secretString,
      account_id: z.string().min(1),
      short_code: z.string().regex(/^\d{5,10}$/, 'must be the 5-6 digit short code or 10-digit toll-free number'),
      keyword: z.string().min(1).describe('Text180 campaign keyword the messages are sent under.'),
      api_base_url: apiBaseUrl,
      ...smsCommon,
    }),
    z
      .strictObject({
        provider: z.literal('twilio'),
        account_sid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio Account SID (AC + 32 hex)'),
        auth_token: secretString,
        from_number: z.string().min(1).optional().describe('Sender: E.164 number, short code or alphanumeric id. Set this or messaging_service_sid.'),
        messaging_service_sid: z
          .string()
          .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Twilio Messaging Service SID (MG + 32 hex)')
          .optional()
          .describe('Twilio Messaging Service to send through. Set this or from_number.'),
        api_base_url: apiBaseUrl,
        ...smsCommon,
      })
      .refine((value) => value.from_number !== undefined || value.messaging_service_sid !== undefined, {
        message: 'set from_number or messaging_service_sid',
        path: ['from_number'],
      }),
  ])
  .optional()
  .describe('SMS provider; omit for clients that never send SMS.');

const email = z
  .discriminatedUnion('provider', [
    z.strictObject({
      provider: z.literal('sendgrid'),
      enabled: z.boolean().default(false),
      api_key: secretString,
      from: mailbox,
      api_base_url: apiBaseUrl,
    }),
    z.strictObject({
      provider: z.literal('zoho'),
      enabled: z.boolean().default(false),
      account_id: z.string().min(1).describe('Zoho Mail account id.'),
      data_center: z.enum(zohoDataCenters),
      oauth: zohoOauth,
      from: mailbox,
      api_base_url: apiBaseUrl,
      accounts_base_url: apiBaseUrl.describe('Override the Zoho accounts (OAuth token) endpoint.'),
    }),
  ])
  .optional()
  .describe('Email provider for call summaries; omit for clients without email.');

/** A client's own message templates (`templates` in its config); also the settings preview's draft. */
export const clientTemplatesSchema = z
  .strictObject({
    sms: z.record(z.string(), z.string()).optional(),
    email: z
      .record(z.string(), z.strictObject({ subject: z.string().optional(), text: z.string().optional(), html: z.string().optional() }))
      .optional(),
  })
  .optional()
  .describe('Message templates by name (filled in by a later issue).');

/** The agent's built-in functions (src/functions); each can be switched off per client. */
export const builtinFunctionNames = [
  'check_availability',
  'book_appointment',
  'find_appointment',
  'reschedule_appointment',
  'cancel_appointment',
  'get_business_info',
  'take_message',
  'send_sms_link',
] as const;
export type BuiltinFunctionName = (typeof builtinFunctionNames)[number];

const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ and -');
const parametersSchema = z
  .strictObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    required: z.array(z.string()).optional(),
  })
  .describe('JSON Schema of the arguments the agent fills in (top level must be an object).');

const functionEntry = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('builtin'),
    name: z.enum(builtinFunctionNames),
    enabled: z.boolean().default(true),
    description: z.string().min(1).max(1000).optional().describe('Override the description given to the agent.'),
  }),
  z.strictObject({
    kind: z.literal('static'),
    name: functionName,
    description: z.string().min(1).max(1000),
    parameters: parametersSchema.optional(),
    response: z.string().min(1).max(15_000).describe('Answer spoken to the caller; {{variables}} from the arguments and the business are filled in.'),
  }),
  z.strictObject({
    kind: z.literal('http'),
    name: functionName,
    description: z.string().min(1).max(1000),
    parameters: parametersSchema.optional(),
    url: z.url({ protocol: /^https$/ }).describe("The client's own HTTPS endpoint; requests are signed Standard-Webhooks style."),
    secret: secretString.describe('Signing secret for the endpoint: whsec_ + base64 (Standard Webhooks), from `npx xlnc secrets webhook`.'),
    timeout_ms: z.int().min(100).max(5000).default(5000),
  }),
]);
export type FunctionEntry = z.output<typeof functionEntry>;

const business = z
  .strictObject({
    address: z.string().max(500).optional(),
    phone: e164.optional(),
    website: z.url().optional(),
    services: z.array(z.string().min(1).max(200)).default([]),
    faqs: z.array(z.strictObject({ question: z.string().min(1).max(500), answer: z.string().min(1).max(2000) })).default([]),
    links: z
      .record(z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'must be a lowercase name like upload_page'), z.url({ protocol: /^https$/ }))
      .default({})
      .describe('Links the agent may text to a caller (send_sms_link), e.g. { "upload_page": "https://…" }.'),
  })
  .prefault({})
  .describe('What the agent may tell callers: address, services, FAQs, links.');

export const clientConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path to client.schema.json, for editors.'),
    client_id: z
      .string()
      .regex(clientIdPattern, 'must be 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit')
      .describe('Stable id used in URLs and storage; must equal the file name without .json.'),
    name: z.string().min(1).describe('Business name, as callers and staff know it.'),
    status: z.enum(clientStatuses).default('active').describe('"disabled" keeps the config but refuses traffic.'),
    environment: z
      .enum(clientEnvironments)
      .default('live')
      .describe('"test" allows literal secrets (warned about); "live" requires env: or enc:v1: secrets.'),
    industry: z.string().min(1).default('general'),
    timezone,
    business_hours: businessHours.prefault({}),
    holidays: z.array(z.iso.date()).default([]).describe('Closed dates (YYYY-MM-DD) in the client timezone.'),
    retell,
    calendar,
    sms,
    email,
    notifications: z
      .strictObject({
        business_email: z.email().optional().describe('Where call summaries for staff are sent.'),
        summary_wait_minutes: z
          .int()
          .min(0)
          .max(1440)
          .default(10)
          .describe("The summary email waits for Retell's call_analyzed; if it has not come this long after call_ended, the summary goes without the analysis."),
      })
      .prefault({}),
    features: z
      .strictObject({
        booking: z.boolean().default(true),
        sms_followup: z.boolean().default(true),
        email_summary: z.boolean().default(true),
        caller_email: z.boolean().default(false).describe('Also email the caller a follow-up when their email is known.'),
      })
      .prefault({})
      .describe('Per-client switches; a feature also needs its provider block to be enabled.'),
    limits: z
      .strictObject({
        webhooks_per_minute: z.int().min(1).default(600).describe('Webhook rate limit for this client.'),
        client_api_per_minute: z
          .int()
          .min(1)
          .default(600)
          .describe("Dashboard and client-API requests per minute for this client, shared by all of the client's users."),
        max_concurrent_calls: z.int().min(1).default(10),
        overflow: z
          .enum(overflowPolicies)
          .default('allow')
          .describe('Beyond max_concurrent_calls: "agent" routes to retell.overflow_agent_id, "reject" refuses, "allow" only records it.'),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        no_events_minutes: z
          .int()
          .min(5)
          .max(10_080)
          .optional()
          .describe("Alert when no call has come in for this many minutes of business hours; default: from the client's own call history (none without enough history)."),
        slack_webhook_url: secretString
          .optional()
          .describe("This client's own Slack-compatible incoming webhook for its alerts, besides the platform's (ALERT_SLACK_WEBHOOK_URL)."),
      })
      .prefault({})
      .describe('Health alerts about this client (the operator console lists them).'),
    templates: clientTemplatesSchema,
    business,
    branding: brandingSchema.optional(),
    functions: z
      .array(functionEntry)
      .default([])
      .describe('Agent functions: switch built-ins off ({ "kind": "builtin", "name": …, "enabled": false }) or add "static" and "http" ones.'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.functions.forEach((entry, index) => {
      if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `duplicate function name ${entry.name}` });
      seen.add(entry.name);
      if (entry.kind !== 'builtin' && (builtinFunctionNames as readonly string[]).includes(entry.name)) {
        ctx.addIssue({ code: 'custom', path: ['functions', index, 'name'], message: `${entry.name} is a built-in function; use kind "builtin" to configure it` });
      }
    });
    if (config.limits.overflow === 'agent' && config.retell.overflow_agent_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['retell', 'overflow_agent_id'], message: 'required when limits.overflow is "agent"' });
    }
  });

export type ClientConfigInput = z.input<typeof clientConfigSchema>;
export type ClientConfig = z.output<typeof clientConfigSchema>;
export type CalendarConfig = ClientConfig['calendar'];
export type SmsConfig = NonNullable<ClientConfig['sms']>;
export type EmailConfig = NonNullable<ClientConfig['email']>;

/** Location and raw value of one secret field in a parsed config. */
export type SecretField = { path: readonly (string | number)[]; value: string };

/**
 * Every secret field of a parsed config. Kept next to the schema, and written as an exhaustive
 * switch per provider, so adding a secret field to a provider forces this list to be updated.
 */
export function listSecretFields(config: ClientConfig): SecretField[] {
  const fields: SecretField[] = [{ path: ['retell', 'api_key'], value: config.retell.api_key }];
  const { calendar, sms, email } = config;
  switch (calendar.provider) {
    case 'zoho':
      fields.push(
        { path: ['calendar', 'oauth', 'client_secret'], value: calendar.oauth.client_secret },
        { path: ['calendar', 'oauth', 'refresh_token'], value: calendar.oauth.refresh_token },
      );
      break;
    case 'internal':
      break;
  }
  switch (sms?.provider) {
    case 'text180':
      fields.push({ path: ['sms', 'auth_key'], value: sms.auth_key });
      break;
    case 'twilio':
      fields.push({ path: ['sms', 'auth_token'], value: sms.auth_token });
      break;
    case undefined:
      break;
  }
  config.functions.forEach((entry, index) => {
    if (entry.kind === 'http') fields.push({ path: ['functions', index, 'secret'], value: entry.secret });
  });
  if (config.alerts.slack_webhook_url !== undefined) fields.push({ path: ['alerts', 'slack_webhook_url'], value: config.alerts.slack_webhook_url });
  switch (email?.provider) {
    case 'sendgrid':
      fields.push({ path: ['email', 'api_key'], value: email.api_key });
      break;
    case 'zoho':
      fields.push(
        { path: ['email', 'oauth', 'client_secret'], value: email.oauth.client_secret },
        { path: ['email', 'oauth', 'refresh_token'], value: email.oauth.refresh_token },
      );
      break;
    case undefined:
      break;
  }
  return fields;
}

/** `["sms", "auth_key"]` → `$.sms.auth_key`; `["business_hours","fri",1]` → `$.business_hours.fri[1]`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** One problem with one client file. `path` is a JSON path into the file, e.g. `$.sms.auth_key`. */
export type ConfigIssue = { file: string; path: string; message: string };

export type ClientLoadStatus = ClientStatus | 'invalid';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A validated config with every secret replaced by its value; deep-frozen at runtime. */
export type ResolvedClientConfig = DeepReadonly<ClientConfig>;

/** What the rest of the platform sees of a client. Frozen; a new record replaces it on change. */
export type ClientRecord = {
  readonly id: string;
  readonly source: 'file' | 'db';
  readonly file?: string;
  readonly status: ClientLoadStatus;
  /** null when status is 'invalid'. */
  readonly config: ResolvedClientConfig | null;
  readonly issues: readonly ConfigIssue[];
  readonly configHash: string;
  readonly loadedAt: Date;
};

/** A client that may be served: active, with a valid configuration. */
export type ServableClient = ClientRecord & { readonly status: 'active'; readonly config: ResolvedClientConfig };

export function isServable(record: ClientRecord | undefined): record is ServableClient {
  return record !== undefined && record.status === 'active' && record.config !== null;
}

/** The country a client's caller numbers are read in when they carry no country code. */
export function defaultCountryOf(config: Pick<ResolvedClientConfig, 'sms'>): string {
  return config.sms?.default_country ?? 'US';
}
