/**
 * Every call to a vendor (Zoho, Twilio, Text180, SendGrid, a client's own endpoint) goes through
 * `providerFetch`: a timeout, a per-client per-provider circuit breaker, metrics, and a typed
 * ProviderError that says whether retrying can help and whether the request may have arrived.
 */
import type { Counter, Histogram } from 'prom-client';
import { SpanKind, SpanStatusCode, startSpan } from './tracing.ts';

export type ProviderName = 'zoho_calendar' | 'zoho_accounts' | 'zoho_mail' | 'twilio' | 'text180' | 'sendgrid' | 'client_http' | 'retell';

/**
 * 503 Service Unavailable means the provider did not take the request (overloaded or down for
 * maintenance), so, like 429, it is safe to send again later. Other 5xx answers may come after the
 * provider acted (a message queued, an event created) and are treated as ambiguous.
 */
export function wasNotProcessed(status: number): boolean {
  return status === 429 || status === 503;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly provider: ProviderName;
  readonly operation: string;
  /** A later attempt may succeed (429, 5xx before processing, connection refused). */
  readonly retryable: boolean;
  /**
   * The request may have reached the provider and been acted on (timeout or reset after sending,
   * or a 5xx on a non-idempotent call): do not resend blindly, reconcile.
   */
  readonly ambiguous: boolean;
  readonly status: number | undefined;
  /** The provider's own error code (e.g. Twilio 21211, Zoho invalid_client). */
  readonly code: string | undefined;
  /** Seconds the provider asked us to wait (Retry-After, rate-limit reset). */
  readonly retryAfterSeconds: number | undefined;

  constructor(fields: {
    provider: ProviderName;
    operation: string;
    message: string;
    retryable: boolean;
    ambiguous?: boolean;
    status?: number;
    code?: string;
    retryAfterSeconds?: number;
  }) {
    super(fields.message);
    this.provider = fields.provider;
    this.operation = fields.operation;
    this.retryable = fields.retryable;
    this.ambiguous = fields.ambiguous ?? false;
    this.status = fields.status;
    this.code = fields.code;
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one half-open probe is let through. */
  openMs: number;
  now?: () => number;
}

type CircuitState = { failures: number; openedAt: number | undefined; probing: boolean };

/** Per key (client + provider) breaker: closed → open after N failures → half-open probe → closed. */
export function createCircuitBreakers(options: CircuitBreakerOptions) {
  const now = options.now ?? Date.now;
  const states = new Map<string, CircuitState>();
  const stateOf = (key: string) => {
    let state = states.get(key);
    if (!state) {
      state = { failures: 0, openedAt: undefined, probing: false };
      states.set(key, state);
    }
    return state;
  };
  return {
    /** Whether a request may go out now; a half-open circuit lets exactly one probe through. */
    allow(key: string): boolean {
      const state = stateOf(key);
      if (state.openedAt === undefined) return true;
      if (now() - state.openedAt < options.openMs || state.probing) return false;
      state.probing = true;
      return true;
    },
    success(key: string): void {
      const state = stateOf(key);
      state.failures = 0;
      state.openedAt = undefined;
      state.probing = false;
    },
    failure(key: string): void {
      const state = stateOf(key);
      state.failures += 1;
      if (state.probing || state.failures >= options.failureThreshold) state.openedAt = now();
      state.probing = false;
    },
    state(key: string): 'closed' | 'open' | 'half_open' {
      const state = states.get(key);
      if (!state || state.openedAt === undefined) return 'closed';
      return now() - state.openedAt < options.openMs ? 'open' : 'half_open';
    },
  };
}

export type CircuitBreakers = ReturnType<typeof createCircuitBreakers>;

/**
 * Outcomes are counted per client (a client's broken credentials show on its own line); latency is
 * a histogram per provider and operation only, so its series do not multiply by the client count.
 */
export interface ProviderMetrics {
  requests: Counter<'client_id' | 'provider' | 'operation' | 'outcome'>;
  duration: Histogram<'provider' | 'operation'>;
}

/** What every adapter is given: no module singletons, everything injectable for tests. */
export interface ProviderContext {
  fetch: typeof fetch;
  breakers: CircuitBreakers;
  metrics?: ProviderMetrics;
  now?: () => number;
}

export interface ProviderRequest {
  clientId: string;
  provider: ProviderName;
  operation: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  /** Safe to repeat (GET, token refresh): a timeout is then retryable rather than ambiguous. */
  idempotent?: boolean;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function retryAfterSeconds(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The client, provider and operation of one outbound call: the breaker key and the metric labels. */
export interface ProviderTarget {
  clientId: string;
  provider: ProviderName;
  operation: string;
}

export interface ProviderAttempt {
  /**
   * Records how the call ended, once: latency, the outcome counter, and the breaker (`failed`: the
   * provider looks unwell: 429, 5xx, transport failures; a 4xx means it is up and refused this one).
   * `status`: the provider's HTTP status, when it answered.
   */
  finish(outcome: string, failed: boolean, status?: number): void;
}

/**
 * The bookkeeping every outbound call shares (fetch-based adapters through `providerFetch`, SDK
 * calls through `callProvider`): refuses at once while the client's circuit for this provider is
 * open, and otherwise times the call until `finish`.
 */
export function startProviderAttempt(ctx: ProviderContext, target: ProviderTarget): ProviderAttempt {
  const key = `${target.clientId}:${target.provider}`;
  const labels = { client_id: target.clientId, provider: target.provider, operation: target.operation };
  // A CLIENT span per call: vendor, operation, outcome and status; never the URL, headers or body.
  const span = startSpan(`${target.provider} ${target.operation}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'xlnc.provider': target.provider, 'xlnc.provider.operation': target.operation },
  });
  const endSpan = (outcome: string, status: number | undefined) => {
    span.setAttribute('xlnc.provider.outcome', outcome);
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.end();
  };
  if (!ctx.breakers.allow(key)) {
    endSpan('circuit_open', undefined);
    ctx.metrics?.requests.inc({ ...labels, outcome: 'circuit_open' });
    throw new ProviderError({
      provider: target.provider,
      operation: target.operation,
      message: `${target.provider} circuit is open for this client after repeated failures`,
      retryable: true,
      code: 'circuit_open',
    });
  }
  const started = performance.now();
  let finished = false;
  return {
    finish(outcome, failed, status) {
      if (finished) return;
      finished = true;
      endSpan(outcome, status);
      ctx.metrics?.duration.observe({ provider: target.provider, operation: target.operation }, (performance.now() - started) / 1000);
      if (failed) ctx.breakers.failure(key);
      else ctx.breakers.success(key);
      ctx.metrics?.requests.inc({ ...labels, outcome });
    },
  };
}

/**
 * Sends one request. Returns the Response for any HTTP status (adapters interpret bodies);
 * throws ProviderError for timeouts, network failures and an open circuit. Adapters report
 * HTTP-level failures back through `classifyStatus` so the breaker and metrics see them.
 */
export async function providerFetch(ctx: ProviderContext, request: ProviderRequest): Promise<Response> {
  const attempt = startProviderAttempt(ctx, request);
  let response: Response;
  try {
    response = await ctx.fetch(request.url, {
      ...request.init,
      redirect: request.init.redirect ?? 'error',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const code = errorCode(error);
    const timedOut = (error as Error).name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT';
    const notSent = code !== undefined && CONNECT_ERRORS.has(code);
    attempt.finish(timedOut ? 'timeout' : 'network_error', true);
    throw new ProviderError({
      provider: request.provider,
      operation: request.operation,
      message: timedOut
        ? `${request.provider} ${request.operation} timed out after ${request.timeoutMs} ms`
        : `${request.provider} ${request.operation} failed: ${code ?? 'network error'}`,
      // A failure to connect never reached the provider: safe to retry. A timeout or reset after
      // sending is ambiguous unless the operation is idempotent.
      retryable: notSent || Boolean(request.idempotent),
      ambiguous: !notSent && !request.idempotent,
      code: timedOut ? 'timeout' : (code ?? 'network_error'),
    });
  }
  attempt.finish(response.ok ? 'ok' : `http_${response.status}`, response.status >= 500 || response.status === 429, response.status);
  return response;
}

/** Reads a body as text with a size cap, so a misbehaving provider cannot exhaust memory. */
export async function readCapped(response: Response, maxBytes = 256 * 1024): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
