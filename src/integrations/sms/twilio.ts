/**
 * Twilio Programmable Messaging through the `twilio` package, one SDK client per platform client.
 * The SDK's own retries are off (jobs own retries and must not resend an ambiguous send), every
 * request is sent to the client's `api_base_url` (default api.twilio.com) whatever TWILIO_EDGE /
 * TWILIO_REGION say, and each call is counted by our circuit breaker and metrics.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import type { ProviderContext } from '../../platform/provider-http.ts';
import { ProviderError, wasNotProcessed } from '../../platform/provider-http.ts';
import type { ProviderCall } from '../provider-call.ts';
import { callProvider, transportError } from '../provider-call.ts';
import type { SmsSender } from './sms.ts';

export type TwilioSmsConfig = Extract<NonNullable<ResolvedClientConfig['sms']>, { provider: 'twilio' }>;

export const twilioDefaultBaseUrl = 'https://api.twilio.com';

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/** Sends every SDK request to `baseUrl` (keeping path and query), so tests and proxies can stand in. */
class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #baseUrl: string;

  constructor(baseUrl: string, timeoutMs: number) {
    super({ timeout: timeoutMs, autoRetry: false, keepAlive: true });
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    const original = new URL(opts.uri);
    return super.request<TData>({ ...opts, uri: `${this.#baseUrl}${original.pathname}${original.search}` });
  }
}

/** Recipient can never receive from this sender, or the request itself is wrong: do not retry. */
const retryableCodes = new Set([20429, 21611]);

/** Where Twilio serves Messaging Services (`/v1/Services`), a host of its own. */
export const twilioMessagingDefaultBaseUrl = 'https://messaging.twilio.com';

/**
 * The SDK client of one Twilio account, every request sent to `baseUrl` (the client's
 * `api_base_url` when set, else the real host of the API used: api.twilio.com for Messages,
 * messaging.twilio.com for Messaging Services), no SDK retries.
 */
export function twilioClientFor(config: Pick<TwilioSmsConfig, 'account_sid' | 'auth_token'>, baseUrl: string, timeoutMs: number) {
  return twilio(config.account_sid, config.auth_token, {
    accountSid: config.account_sid,
    autoRetry: false,
    timeout: timeoutMs,
    httpClient: new BaseUrlRequestClient(baseUrl, timeoutMs),
    // Explicit empty values so TWILIO_EDGE / TWILIO_REGION / TWILIO_LOG_LEVEL in the environment
    // cannot change where or how one client's requests go.
    edge: '',
    region: '',
    logLevel: 'info',
  });
}

export function createTwilioSender(clientId: string, config: TwilioSmsConfig, ctx: ProviderContext, options: { timeoutMs: number }): SmsSender {
  const client = twilioClientFor(config, config.api_base_url ?? twilioDefaultBaseUrl, options.timeoutMs);
  const messages = client.api.v2010.accounts(config.account_sid).messages;

  return {
    provider: 'twilio',
    async send(message) {
      const call: ProviderCall = { clientId, provider: 'twilio', operation: 'send_sms', timeoutMs: options.timeoutMs };
      const created = await callProvider(
        ctx,
        call,
        () =>
          messages.create({
            to: message.to,
            body: message.body,
            ...(config.messaging_service_sid !== undefined ? { messagingServiceSid: config.messaging_service_sid } : {}),
            ...(config.from_number !== undefined ? { from: config.from_number } : {}),
            ...(message.statusCallbackUrl !== undefined ? { statusCallback: message.statusCallbackUrl } : {}),
          }),
        (error) => twilioError(call, error),
      );
      return { providerMessageId: created.sid, status: created.status === 'sent' || created.status === 'delivered' ? 'sent' : 'queued' };
    },

    /**
     * Reconciles an ambiguous send: the newest message to `to` with exactly this body sent at or
     * after `sentAfter` (Twilio's `DateSent>=` filter). Read-only, so timeouts are retryable.
     */
    async lookup(query) {
      const call: ProviderCall = { clientId, provider: 'twilio', operation: 'lookup_sms', timeoutMs: options.timeoutMs, idempotent: true };
      const found = await callProvider(
        ctx,
        call,
        () => messages.list({ to: query.to, dateSentAfter: query.sentAfter, pageSize: 50, limit: 50 }),
        (error) => twilioError(call, error),
      );
      const match = found
        .filter((item) => item.body === query.body && item.direction !== 'inbound')
        .sort((a, b) => (b.dateCreated?.getTime() ?? 0) - (a.dateCreated?.getTime() ?? 0))[0];
      return match ? { providerMessageId: match.sid, status: match.status } : undefined;
    },
  };
}

/**
 * SDK failure → ProviderError. RestException (and the newer RFC 9457 TwilioServiceException)
 * carry the HTTP `status` and Twilio `code`; axios transport errors carry `isAxiosError`.
 */
export function twilioError(call: ProviderCall, error: unknown): ProviderError {
  const fields = error as { status?: unknown; code?: unknown; message?: unknown; isAxiosError?: unknown };
  if (typeof fields.status === 'number') {
    const status = fields.status;
    const code = typeof fields.code === 'number' ? fields.code : undefined;
    const rateLimited = status === 429 || code === 20429;
    const serverError = status >= 500 && !wasNotProcessed(status);
    return new ProviderError({
      provider: 'twilio',
      operation: call.operation,
      message: `Twilio ${call.operation} failed (HTTP ${status}${code !== undefined ? `, code ${code}` : ''}): ${typeof fields.message === 'string' ? fields.message : 'no message'}`,
      retryable: rateLimited || wasNotProcessed(status) || (code !== undefined && retryableCodes.has(code)) || (serverError && Boolean(call.idempotent)),
      // A 5xx other than 503 on a create may still have queued the message.
      ambiguous: serverError && !call.idempotent,
      status,
      code: code !== undefined ? String(code) : undefined,
    });
  }
  if (fields.isAxiosError === true) return transportError(call, error);
  // Thrown before any request (e.g. the SDK's own parameter validation): nothing was sent.
  return new ProviderError({
    provider: 'twilio',
    operation: call.operation,
    message: `Twilio ${call.operation} could not be sent: ${error instanceof Error ? error.message : String(error)}`,
    retryable: false,
    code: 'invalid_request',
  });
}

/**
 * Checks `X-Twilio-Signature` on a form-encoded webhook (status callback, inbound SMS):
 * base64(HMAC-SHA1(authToken, url + each param name and value, names sorted, repeated values
 * de-duplicated and sorted)), compared in constant time. `url` must be the exact public URL
 * Twilio called (rebuilt from configuration behind a proxy, not from the Host header); it is
 * also tried with and without the scheme's default port, as Twilio's own validator does (which
 * strips any port; a non-default port is kept here, it is part of the URL we configured).
 * JSON webhooks (`bodySHA256` in the URL) and SharedKey HMAC-SHA256 signatures are not covered.
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string | readonly string[]>>,
  signatureHeader: string | undefined,
): boolean {
  if (!signatureHeader || !authToken) return false;
  const received = Buffer.from(signatureHeader, 'utf8');
  const candidates = new Set([url, withDefaultPort(url), withoutDefaultPort(url)]);
  let valid = false;
  for (const candidate of candidates) {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    // Every candidate is compared (no early exit) so timing does not reveal which one matched.
    if (expected.length === received.length && timingSafeEqual(expected, received)) valid = true;
  }
  return valid;
}

/** The signature Twilio would send for this URL and form body (also used by test fakes). */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string | readonly string[]>>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const item of values) data += name + item;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

// Split without normalizing (new URL() would re-encode the path and query Twilio signed).
const urlParts = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(:\d*)?(.*)$/is;

function withDefaultPort(url: string): string {
  const match = urlParts.exec(url);
  if (!match || match[4]) return url;
  const [, scheme = '', userInfo = '', host = '', , rest = ''] = match;
  return `${scheme}${userInfo}${host}${scheme.toLowerCase() === 'https://' ? ':443' : ':80'}${rest}`;
}

function withoutDefaultPort(url: string): string {
  const match = urlParts.exec(url);
  if (!match) return url;
  const [, scheme = '', userInfo = '', host = '', port = '', rest = ''] = match;
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return port === defaultPort ? `${scheme}${userInfo}${host}${rest}` : url;
}
