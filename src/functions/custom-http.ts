/**
 * Forwards a client's custom `http` function to the client's own HTTPS endpoint, signed in the
 * Standard Webhooks style. The endpoint URL comes from tenant-editable config, so the request goes
 * through the platform's SSRF guard (platform/outbound-http.ts): only public addresses, no
 * redirects, a hard deadline and a capped response.
 */
import { randomUUID } from 'node:crypto';
import { safeRequest } from '../platform/outbound-http.ts';
import { signStandardWebhook } from '../platform/standard-webhooks.ts';

/** Upper bound on any endpoint's deadline (issue 5: 5 s), whatever the entry says. */
export const MAX_TIMEOUT_MS = 5000;
/** Responses larger than this are refused: the agent can only speak a few thousand characters. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type HttpFunctionEndpoint = { readonly url: string; readonly secret: string; readonly timeout_ms: number };

export type HttpFunctionRequest = {
  clientId: string;
  callId: string | null;
  name: string;
  args: Record<string, unknown>;
  call: Record<string, unknown> | null;
};

export type HttpFunctionOptions = {
  /** Test seam: let through an address the guard would refuse (e.g. 127.0.0.1). Never set in production. */
  allowAddress?: (ip: string) => boolean;
  /** Extra trusted CA (tests with a self-signed certificate). */
  ca?: string | Buffer;
  /** Clock in milliseconds since the epoch, for `webhook-timestamp`. */
  now?: () => number;
};

/**
 * - `timeout`: no complete answer within the entry's `timeout_ms` (the request may have arrived).
 * - `blocked_address`: the host is (or resolves to) a private, loopback, link-local or otherwise
 *   non-public address, or the URL is not https; nothing was sent.
 * - `http_error`: the endpoint answered with a status outside 2xx/3xx.
 * - `network_error`: DNS failure, connection refused or reset, TLS failure.
 * - `invalid_response`: body over MAX_RESPONSE_BYTES, or declared JSON that does not parse.
 * - `redirect`: the endpoint answered 3xx; redirects are never followed.
 */
export type HttpFunctionErrorCode = 'timeout' | 'blocked_address' | 'http_error' | 'network_error' | 'invalid_response' | 'redirect';

export type HttpFunctionResult = { ok: true; status: number; body: unknown } | { ok: false; code: HttpFunctionErrorCode; message: string };

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^[a-z]+\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(value.trim());
}

/**
 * POSTs `{ name, client_id, call_id, args, call }` to the endpoint and returns its answer. Never
 * throws: every failure is a typed result the function route turns into a speakable apology.
 */
export async function callHttpFunction(
  entry: HttpFunctionEndpoint,
  request: HttpFunctionRequest,
  options: HttpFunctionOptions = {},
): Promise<HttpFunctionResult> {
  const body = JSON.stringify({ name: request.name, client_id: request.clientId, call_id: request.callId, args: request.args, call: request.call });
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const answer = await safeRequest({
    url: entry.url,
    operation: 'custom_function',
    body,
    timeoutMs: Math.max(1, Math.min(entry.timeout_ms, MAX_TIMEOUT_MS)),
    maxResponseBytes: MAX_RESPONSE_BYTES,
    allowAddress: options.allowAddress,
    ca: options.ca,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/plain;q=0.9, */*;q=0.1',
      'user-agent': 'xlnc-perception-functions/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(entry.secret, id, timestamp, body),
    },
  });
  if (!answer.ok) return { ok: false, code: answer.code === 'response_too_large' ? 'invalid_response' : answer.code, message: answer.message };
  if (answer.status < 200 || answer.status >= 300) return { ok: false, code: 'http_error', message: `endpoint answered ${answer.status}` };
  const text = answer.body.toString('utf8');
  if (text === '' || !isJsonContentType(answer.headers['content-type'])) return { ok: true, status: answer.status, body: text };
  try {
    return { ok: true, status: answer.status, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, code: 'invalid_response', message: 'response declared JSON but does not parse' };
  }
}
