/*
 * The original design stored each client as one flat object (`retell_agent_id`, `zoho_calendar_id`,
 * `text180_auth_key`, …). Those files must keep loading, so they are rewritten into the canonical
 * nested shape before validation. The canonical schema then applies unchanged (including its
 * defaults: a legacy file without `environment` is "live", so literal secrets in it are rejected).
 */

type Json = Record<string, unknown>;

export type LegacyNormalization = {
  /** Canonical-shaped object, still unvalidated. */
  config: Json;
  /** One line telling the operator how to upgrade the file. */
  hint: string;
  /** Canonical JSON path → the legacy key it came from, so issues can point at the original key. */
  sourceKeys: Record<string, string>;
  /** Canonical JSON path → the flat key that would fill it (the first spelling), for issues about a missing key. */
  expectedKeys: Record<string, string>;
  /** Top-level keys the flat format does not know (typos): errors, as in the nested format. */
  unknownKeys: string[];
  /** Flat keys that do not apply to this file (e.g. twilio_* with Text180): ignored, with a warning. */
  inapplicableKeys: string[];
};

/** Keys that exist only in the flat style; any one of them (and no `retell` block) marks a file legacy. */
const legacyMarkers = [
  'retell_agent_id',
  'retell_agent_ids',
  'retell_api_key',
  'zoho_calendar_id',
  'zoho_client_id',
  'zoho_client_secret',
  'zoho_refresh_token',
  'text180_auth_key',
  'sendgrid_api_key',
  'sms_enabled',
  'sms_provider',
  'email_provider',
  'company_name',
] as const;

/**
 * Every key of the flat format and the canonical field it fills: the one list the normalizer
 * reads from (its key parameters are typed by it) and the README prints (a test compares them).
 */
export const LEGACY_FLAT_KEYS = {
  company_name: 'name (when `name` is absent)',
  business_hours: 'business_hours (also `monday`-style day names, `"09:00-17:00"` strings, `{ "open", "close" }` and `{ "closed": true }`)',
  retell_api_key: 'retell.api_key (required)',
  retell_agent_ids: 'retell.agent_ids',
  retell_agent_id: 'retell.agent_ids (one agent)',
  retell_phone_numbers: 'retell.phone_numbers',
  retell_phone_number: 'retell.phone_numbers (one number)',
  phone_number: 'retell.phone_numbers (one number)',
  retell_overflow_agent_id: 'retell.overflow_agent_id',
  zoho_calendar_id: 'calendar.calendar_id (and calendar.provider "zoho"; without it the calendar is "internal")',
  zoho_data_center: 'calendar.data_center, and email.data_center for Zoho Mail (default "us")',
  zoho_region: 'calendar.data_center',
  zoho_client_id: 'calendar.oauth.client_id, and email.oauth.client_id for Zoho Mail',
  zoho_client_secret: 'calendar.oauth.client_secret, and email.oauth.client_secret for Zoho Mail',
  zoho_refresh_token: 'calendar.oauth.refresh_token, and email.oauth.refresh_token for Zoho Mail',
  zoho_user_email: 'calendar.user_email',
  appointment_minutes: 'calendar.appointment_minutes',
  buffer_minutes: 'calendar.buffer_minutes',
  min_notice_minutes: 'calendar.min_notice_minutes',
  horizon_days: 'calendar.horizon_days',
  sms_enabled: 'sms.enabled',
  sms_provider: 'sms.provider (`txt180` is read as `text180`; default: inferred from text180_* or twilio_* keys)',
  text180_auth_key: 'sms.auth_key',
  text180_account_id: 'sms.account_id',
  text180_short_code: 'sms.short_code',
  text180_keyword: 'sms.keyword',
  twilio_account_sid: 'sms.account_sid',
  twilio_auth_token: 'sms.auth_token',
  twilio_from_number: 'sms.from_number',
  twilio_phone_number: 'sms.from_number',
  twilio_messaging_service_sid: 'sms.messaging_service_sid',
  email_provider: 'email.provider (default "sendgrid" when sendgrid_api_key is present)',
  email_enabled: 'email.enabled (default true when a provider is configured)',
  sendgrid_api_key: 'email.api_key',
  sendgrid_from: 'email.from',
  email_from: 'email.from',
  zoho_mail_account_id: 'email.account_id',
  zoho_mail_data_center: 'email.data_center',
  business_email: 'notifications.business_email',
  notification_email: 'notifications.business_email',
} as const;

export type LegacyFlatKey = keyof typeof LEGACY_FLAT_KEYS;

/** Canonical top-level keys a legacy file may already use as-is (its other keys are errors). */
export const LEGACY_PASS_THROUGH_KEYS = [
  '$schema',
  'client_id',
  'name',
  'status',
  'environment',
  'industry',
  'timezone',
  'holidays',
  'notifications',
  'features',
  'limits',
  'templates',
  'functions',
  'business',
] as const;

const dayAliases: Record<string, string> = {
  mon: 'mon', monday: 'mon',
  tue: 'tue', tues: 'tue', tuesday: 'tue',
  wed: 'wed', wednesday: 'wed',
  thu: 'thu', thur: 'thu', thurs: 'thu', thursday: 'thu',
  fri: 'fri', friday: 'fri',
  sat: 'sat', saturday: 'sat',
  sun: 'sun', sunday: 'sun',
};

const calendarTuning = ['appointment_minutes', 'buffer_minutes', 'min_notice_minutes', 'horizon_days'] as const;

export function isLegacyClientConfig(raw: unknown): raw is Json {
  if (!isObject(raw) || 'retell' in raw) return false;
  return legacyMarkers.some((key) => key in raw);
}

export function normalizeLegacyClientConfig(raw: Json): LegacyNormalization {
  const used = new Set<string>();
  const sourceKeys: Record<string, string> = {};
  const expectedKeys: Record<string, string> = {};
  const take = (key: LegacyFlatKey, canonicalPath?: string): unknown => {
    if (canonicalPath !== undefined) expectedKeys[canonicalPath] ??= `$.${key}`;
    if (!(key in raw)) return undefined;
    used.add(key);
    if (canonicalPath !== undefined) sourceKeys[canonicalPath] = `$.${key}`;
    return raw[key];
  };
  const first = (canonicalPath: string, ...keys: LegacyFlatKey[]): unknown => {
    if (keys[0] !== undefined) expectedKeys[canonicalPath] ??= `$.${keys[0]}`;
    for (const key of keys) {
      if (key in raw) {
        const value = take(key, canonicalPath);
        for (const other of keys) if (other in raw) used.add(other);
        return value;
      }
    }
    return undefined;
  };

  const config: Json = {};
  for (const key of LEGACY_PASS_THROUGH_KEYS) {
    if (key in raw) config[key] = raw[key];
    used.add(key);
  }
  const companyName = take('company_name', '$.name');
  if (config.name === undefined && companyName !== undefined) config.name = companyName;

  if ('business_hours' in raw) config.business_hours = normalizeBusinessHours(take('business_hours'));

  const agentIds = first('$.retell.agent_ids', 'retell_agent_ids', 'retell_agent_id');
  const phoneNumbers = first('$.retell.phone_numbers', 'retell_phone_numbers', 'retell_phone_number', 'phone_number');
  config.retell = compact({
    // No platform-wide fallback: a file without the key is invalid and says so by the key it lacks
    // (to share one key, write "retell_api_key": "env:RETELL_API_KEY" in each file).
    api_key: first('$.retell.api_key', 'retell_api_key'),
    agent_ids: agentIds === undefined ? undefined : Array.isArray(agentIds) ? agentIds : [agentIds],
    phone_numbers: phoneNumbers === undefined ? undefined : Array.isArray(phoneNumbers) ? phoneNumbers : [phoneNumbers],
    overflow_agent_id: first('$.retell.overflow_agent_id', 'retell_overflow_agent_id'),
  });

  const zohoOauth = () =>
    compact({
      client_id: first('$.calendar.oauth.client_id', 'zoho_client_id'),
      client_secret: first('$.calendar.oauth.client_secret', 'zoho_client_secret'),
      refresh_token: first('$.calendar.oauth.refresh_token', 'zoho_refresh_token'),
    });
  const tuning: Json = {};
  for (const key of calendarTuning) if (key in raw) tuning[key] = take(key, `$.calendar.${key}`);

  if ('zoho_calendar_id' in raw) {
    config.calendar = compact({
      provider: 'zoho',
      data_center: first('$.calendar.data_center', 'zoho_data_center', 'zoho_region') ?? 'us',
      calendar_id: take('zoho_calendar_id', '$.calendar.calendar_id'),
      oauth: zohoOauth(),
      user_email: first('$.calendar.user_email', 'zoho_user_email'),
      ...tuning,
    });
  } else {
    config.calendar = { provider: 'internal', ...tuning };
  }

  const smsEnabled = take('sms_enabled', '$.sms.enabled');
  const smsProvider = normalizeProvider(take('sms_provider', '$.sms.provider'));
  const hasText180 = Object.keys(raw).some((key) => key.startsWith('text180_'));
  const hasTwilio = Object.keys(raw).some((key) => key.startsWith('twilio_'));
  const resolvedSmsProvider = smsProvider ?? (hasText180 ? 'text180' : hasTwilio ? 'twilio' : undefined);
  if (resolvedSmsProvider === 'twilio') {
    config.sms = compact({
      provider: 'twilio',
      enabled: smsEnabled ?? false,
      account_sid: first('$.sms.account_sid', 'twilio_account_sid'),
      auth_token: first('$.sms.auth_token', 'twilio_auth_token'),
      from_number: first('$.sms.from_number', 'twilio_from_number', 'twilio_phone_number'),
      messaging_service_sid: first('$.sms.messaging_service_sid', 'twilio_messaging_service_sid'),
    });
  } else if (resolvedSmsProvider !== undefined) {
    config.sms = compact({
      provider: resolvedSmsProvider,
      enabled: smsEnabled ?? false,
      auth_key: first('$.sms.auth_key', 'text180_auth_key'),
      account_id: first('$.sms.account_id', 'text180_account_id'),
      short_code: first('$.sms.short_code', 'text180_short_code'),
      keyword: first('$.sms.keyword', 'text180_keyword'),
    });
  } else if (smsEnabled === true) {
    // sms_enabled with no provider: let validation say what is missing.
    config.sms = { enabled: true };
  }

  const emailProvider = normalizeProvider(take('email_provider', '$.email.provider'));
  const emailEnabled = take('email_enabled', '$.email.enabled');
  const resolvedEmailProvider = emailProvider ?? ('sendgrid_api_key' in raw ? 'sendgrid' : undefined);
  const from = first('$.email.from', 'sendgrid_from', 'email_from');
  if (resolvedEmailProvider === 'zoho') {
    config.email = compact({
      provider: 'zoho',
      // The flat style had no switch for email: configuring a provider meant using it.
      enabled: emailEnabled ?? true,
      account_id: first('$.email.account_id', 'zoho_mail_account_id'),
      data_center: first('$.email.data_center', 'zoho_mail_data_center', 'zoho_data_center') ?? 'us',
      oauth: compact({
        client_id: first('$.email.oauth.client_id', 'zoho_client_id'),
        client_secret: first('$.email.oauth.client_secret', 'zoho_client_secret'),
        refresh_token: first('$.email.oauth.refresh_token', 'zoho_refresh_token'),
      }),
      from,
    });
  } else if (resolvedEmailProvider !== undefined) {
    config.email = compact({
      provider: resolvedEmailProvider,
      enabled: emailEnabled ?? true,
      api_key: first('$.email.api_key', 'sendgrid_api_key'),
      from,
    });
  }

  const businessEmail = first('$.notifications.business_email', 'business_email', 'notification_email');
  if (businessEmail !== undefined) {
    config.notifications = { ...(isObject(config.notifications) ? config.notifications : {}), business_email: businessEmail };
  }

  const unusedKeys = Object.keys(raw).filter((key) => !used.has(key));
  const unknownKeys = unusedKeys.filter((key) => !(key in LEGACY_FLAT_KEYS));
  const inapplicableKeys = unusedKeys.filter((key) => key in LEGACY_FLAT_KEYS);
  const hint =
    'flat legacy format: still supported, but upgrade to the nested format ' +
    '(retell/calendar/sms/email blocks, see config/client.schema.json) to get editor completion';
  return { config, hint, sourceKeys, expectedKeys, unknownKeys, inapplicableKeys };
}

function normalizeBusinessHours(value: unknown): unknown {
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [rawDay, hours] of Object.entries(value)) {
    const day = dayAliases[rawDay.toLowerCase()] ?? rawDay;
    if (hours === null || hours === false || hours === 'closed') continue;
    if (typeof hours === 'string') out[day] = [hours];
    else if (Array.isArray(hours)) out[day] = hours;
    else if (isObject(hours)) {
      if (hours.closed === true) continue;
      out[day] = typeof hours.open === 'string' && typeof hours.close === 'string' ? [`${hours.open}-${hours.close}`] : hours;
    } else out[day] = hours;
  }
  return out;
}

function normalizeProvider(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lowered = value.trim().toLowerCase();
  // The original design spelled Text180 both ways.
  return lowered === 'txt180' ? 'text180' : lowered;
}

function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
