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
  conflict: 409,
  client_managed_by_file: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  /** The client's configuration is invalid; the operator must fix it (callers may retry). */
  client_misconfigured: 503,
  service_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.code = code;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; request_id: string };
}

export function errorEnvelope(code: ErrorCode, message: string, requestId: string): ErrorEnvelope {
  return { error: { code, message, request_id: requestId } };
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
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'service_unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}
