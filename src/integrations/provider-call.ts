/**
 * `providerFetch` covers vendors we call with fetch. The Twilio and SendGrid SDKs make their own
 * HTTP requests, so their calls go through `callProvider` instead: the same bookkeeping
 * (`startProviderAttempt`: circuit breaker, metrics), a hard deadline, and every failure turned
 * into a ProviderError by the adapter's `classify`.
 */
import { withDeadline } from '../platform/deadline.ts';
import type { ProviderContext, ProviderName } from '../platform/provider-http.ts';
import { ProviderError, startProviderAttempt } from '../platform/provider-http.ts';

export interface ProviderCall {
  clientId: string;
  provider: ProviderName;
  operation: string;
  /** The SDK's own timeout; the hard deadline here fires 1 s later in case the SDK never settles. */
  timeoutMs: number;
  /** Safe to repeat (reads): a timeout is then retryable rather than ambiguous. */
  idempotent?: boolean;
}

const deadlineGraceMs = 1_000;

export async function callProvider<T>(
  ctx: ProviderContext,
  call: ProviderCall,
  run: () => Promise<T>,
  classify: (error: unknown) => ProviderError,
): Promise<T> {
  const attempt = startProviderAttempt(ctx, call);
  try {
    const result = await withDeadline(run, call.timeoutMs + deadlineGraceMs, () => {
      throw new ProviderError({
        provider: call.provider,
        operation: call.operation,
        message: `${call.provider} ${call.operation} timed out after ${call.timeoutMs} ms`,
        retryable: Boolean(call.idempotent),
        ambiguous: !call.idempotent,
        code: 'timeout',
      });
    });
    attempt.finish('ok', false);
    return result;
  } catch (error) {
    const failure = error instanceof ProviderError ? error : classify(error);
    // Same rule as providerFetch: 429, 5xx and transport failures count against the breaker; a
    // 4xx answer means the provider is up and rejected this one request.
    attempt.finish(outcomeOf(failure), failure.retryable || failure.ambiguous, failure.status);
    throw failure;
  }
}

function outcomeOf(error: ProviderError): string {
  if (error.status !== undefined) return `http_${error.status}`;
  return error.code === 'timeout' ? 'timeout' : 'network_error';
}

const connectErrors = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const timeoutErrors = new Set(['ECONNABORTED', 'ETIMEDOUT']);

/**
 * Maps a transport error from an axios-based SDK (no HTTP response) to a ProviderError:
 * refused connections never reached the provider (retryable); timeouts and resets after sending
 * may have been acted on (ambiguous unless the call is idempotent).
 */
export function transportError(call: Pick<ProviderCall, 'provider' | 'operation' | 'idempotent'>, error: unknown): ProviderError {
  const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : undefined;
  const timedOut = code !== undefined && timeoutErrors.has(code);
  const notSent = code !== undefined && connectErrors.has(code);
  return new ProviderError({
    provider: call.provider,
    operation: call.operation,
    message: timedOut ? `${call.provider} ${call.operation} timed out` : `${call.provider} ${call.operation} failed: ${code ?? 'network error'}`,
    retryable: notSent || Boolean(call.idempotent),
    ambiguous: !notSent && !call.idempotent,
    code: timedOut ? 'timeout' : (code ?? 'network_error'),
  });
}
