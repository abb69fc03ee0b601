/** Failures of API requests, typed by the error envelope's code. */

/** An answer that was not 2xx, or no answer at all (`status` 0, `code` network_error). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The envelope's `code` (`not_found`, `rate_limited`, …), or `http_error` / `network_error`. */
  readonly code: string;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, requestId: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The error envelope `{ error: { code, message, request_id } }`, or a plain description of what came back. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id');
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown; request_id?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new ApiError(response.status, error.code, error.message, typeof error.request_id === 'string' ? error.request_id : requestId);
    }
  } catch {
    // Not JSON (a proxy's page): described by its status below.
  }
  return new ApiError(response.status, 'http_error', `The server answered ${response.status} ${response.statusText}`.trim(), requestId);
}
