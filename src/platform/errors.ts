/**
 * One error type with a closed set of codes, mapped to HTTP in one place. Services throw
 * AppError; routes never build HTTP errors themselves. Every 4xx/5xx leaves the API as
 * `{ "error": { "code", "message", "request_id" } }`.
 */

/** Every error code the API can return, with its HTTP status. */
export const ERROR_STATUS = {
  /** The body, query or params failed validation; the message names the field. */
  invalid_payload: 400,
  bad_request: 400,
  /** Text the database cannot store (U+0000, an unpaired surrogate) or nesting beyond 64 levels. */
  invalid_input: 400,
  unauthorized: 401,
  /** Login refused: unknown email, wrong password or disabled account (one answer for all three). */
  invalid_credentials: 401,
  /** A rotated refresh token was presented again; its whole family has been revoked. */
  token_reused: 401,
  invalid_signature: 401,
  /** Signed, but the timestamp is outside the accepted window (replay protection). */
  stale_signature: 401,
  forbidden: 403,
  client_disabled: 403,
  /** The call's agent does not belong to the client named in the URL. */
  agent_not_owned: 403,
  not_found: 404,
  unknown_client: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  client_managed_by_file: 409,
  /** The appointment's new time overlaps another booking or busy time in the calendar. */
  slot_taken: 409,
  /** The appointment has already started: history is not changed. */
  appointment_in_past: 409,
  /** A cancelled appointment is not rescheduled (book a new one). */
  appointment_cancelled: 409,
  /** The time is outside business hours, on a holiday, too soon (minimum notice) or beyond the booking horizon. */
  outside_hours: 422,
  /** Not a time the calendar can book (unparseable, in the past, not on the slot grid). */
  invalid_time: 422,
  /** A provider (the client's calendar, SMS or email service) refused or failed; the change was not made. */
  provider_error: 502,
  payload_too_large: 413,
  /** A path segment longer than the router accepts. */
  uri_too_long: 414,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
  rate_limited: 429,
  internal_error: 500,
  /** The client's configuration is invalid; the operator must fix it (callers may retry). */
  client_misconfigured: 503,
  service_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem with one field of a request, `path` a JSON path into what was sent (`$.business_hours.mon[0]`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  /** Every field problem (an `invalid_payload` answer lists them so a form can show each beside its field). */
  readonly issues: readonly FieldIssue[] | undefined;
  constructor(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}, issues?: readonly FieldIssue[]) {
    super(message);
    this.code = code;
    this.headers = headers;
    this.issues = issues;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; request_id: string; issues?: FieldIssue[] };
}

export function errorEnvelope(code: ErrorCode, message: string, requestId: string, issues?: readonly FieldIssue[]): ErrorEnvelope {
  return { error: { code, message, request_id: requestId, ...(issues !== undefined && issues.length > 0 ? { issues: [...issues] } : {}) } };
}

/** Maps Fastify's own status codes (body limit, content type, 404) onto our closed set. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 414:
      return 'uri_too_long';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 431:
      return 'request_header_fields_too_large';
    case 503:
      return 'service_unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

/** Seconds a caller is asked to wait when a dependency is down (Retry-After on 503). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs and socket codes that mean "the database cannot be reached right now", not "this
 * request is wrong": admin_shutdown (57P01, a restart), crash_shutdown (57P02),
 * cannot_connect_now (57P03, starting up or shutting down), connection exceptions (class 08),
 * too_many_connections (53300), and the socket errors of a server that is gone.
 */
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres and pg-pool messages that carry no code. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
];

/**
 * Whether `error` (or anything in its `cause` chain: drizzle wraps driver errors) says the
 * database is unreachable. One list, used by the error mapping and by anything that must tell an
 * outage from a bad row (the call_inbound spool).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 8; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, cause, errors } = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.includes(known))) return true;
    // An AggregateError (a connect that tried IPv4 and IPv6) holds the socket errors.
    if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = cause;
  }
  return false;
}

/** The 503 a request gets while the database is unreachable (never a 500: retrying will help). */
export function databaseUnavailableError(): AppError {
  return new AppError('service_unavailable', 'The database is unavailable; try again shortly', {
    'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS),
  });
}
