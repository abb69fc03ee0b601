/** Failures of API requests, typed by the error envelope's code. */

/** An answer that was not 2xx, or no answer at all (`status` 0, `code` network_error). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The envelope's `code` (`not_found`, `rate_limited`, …), or `http_error` / `network_error`. */
  readonly code: string;
  readonly requestId: string | null;
  /** Field problems of an `invalid_payload` answer, by JSON path (`$.business_hours.mon[0]`). */
  readonly issues: readonly { path: string; message: string }[];

  constructor(status: number, code: string, message: string, requestId: string | null = null, issues: readonly { path: string; message: string }[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.issues = issues;
  }
}

/** The error envelope `{ error: { code, message, request_id } }`, or a plain description of what came back. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id');
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown; request_id?: unknown; issues?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      const issues = Array.isArray(error.issues)
        ? (error.issues as unknown[]).filter((issue): issue is { path: string; message: string } => {
            const candidate = issue as { path?: unknown; message?: unknown } | null;
            return typeof candidate?.path === 'string' && typeof candidate.message === 'string';
          })
        : [];
      return new ApiError(response.status, error.code, error.message, typeof error.request_id === 'string' ? error.request_id : requestId, issues);
    }
  } catch {
    // Not JSON (a proxy's page): described by its status below.
  }
  return new ApiError(response.status, 'http_error', `The server answered ${response.status} ${response.statusText}`.trim(), requestId);
}
