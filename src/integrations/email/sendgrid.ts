/**
 * SendGrid v3 Mail Send through `@sendgrid/mail`, one Client + MailService per platform client
 * (never the package's default singletons, which share one API key). Requests go to the client's
 * `api_base_url` (default api.sendgrid.com) and are counted by our circuit breaker and metrics.
 */
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import type { ProviderContext } from '../../platform/provider-http.ts';
import { ProviderError, wasNotProcessed } from '../../platform/provider-http.ts';
import type { ProviderCall } from '../provider-call.ts';
import { callProvider, transportError } from '../provider-call.ts';
import type { EmailSender } from './email.ts';

export type SendgridEmailConfig = Extract<NonNullable<ResolvedClientConfig['email']>, { provider: 'sendgrid' }>;

export const sendgridDefaultBaseUrl = 'https://api.sendgrid.com/';
export const emailTimeoutMs = 10_000;

export function createSendgridSender(clientId: string, config: SendgridEmailConfig, ctx: ProviderContext, options: { timeoutMs?: number } = {}): EmailSender {
  const timeoutMs = options.timeoutMs ?? emailTimeoutMs;
  const client = new Client();
  client.setApiKey(config.api_key);
  // After setApiKey, which resets baseUrl to the global host.
  client.setDefaultRequest('baseUrl', withTrailingSlash(config.api_base_url ?? sendgridDefaultBaseUrl));
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(timeoutMs);
  const from = parseMailbox(config.from);

  return {
    provider: 'sendgrid',
    async send(message) {
      const call: ProviderCall = { clientId, provider: 'sendgrid', operation: 'send_email', timeoutMs };
      const [response] = await callProvider(
        ctx,
        call,
        () =>
          mail.send({
            to: message.toName !== undefined ? { email: message.to, name: message.toName } : message.to,
            from,
            ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
            subject: message.subject,
            // SendGrid requires text/plain before text/html.
            content: [
              { type: 'text/plain', value: message.text },
              { type: 'text/html', value: message.html },
            ],
            customArgs: { reference: message.reference },
          }),
        (error) => sendgridError(call, error, ctx.now ?? Date.now),
      );
      const id = headerValue(response.headers, 'x-message-id');
      return id !== undefined ? { providerMessageId: id } : {};
    },
  };
}

/** `"Biz Dental <bookings@biz.example>"` or `bookings@biz.example` → SendGrid's `{ email, name? }`. */
export function parseMailbox(value: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!match) return { email: value.trim() };
  const name = (match[1] ?? '').replace(/^"(.*)"$/, '$1').trim();
  const email = match[2] ?? '';
  return name === '' ? { email } : { email, name };
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string' && value !== '') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/**
 * SDK failure → ProviderError. `ResponseError.code` is the HTTP status and `response.body.errors`
 * the reasons; 429 (after X-RateLimit-Reset) and 503 are retryable; other 5xx may have been accepted (ambiguous);
 * other 4xx (400 validation, 401 key, 403 unverified sender, 413 size) are permanent.
 */
function sendgridError(call: ProviderCall, error: unknown, now: () => number): ProviderError {
  const fields = error as { code?: unknown; isAxiosError?: unknown; response?: { headers?: unknown; body?: unknown } };
  if (typeof fields.code === 'number') {
    const status = fields.code;
    const reasons = errorMessages(fields.response?.body);
    const reset = Number(headerValue(fields.response?.headers, 'x-ratelimit-reset'));
    return new ProviderError({
      provider: 'sendgrid',
      operation: call.operation,
      message: `SendGrid ${call.operation} failed (HTTP ${status})${reasons ? `: ${reasons}` : ''}`,
      retryable: wasNotProcessed(status),
      ambiguous: status >= 500 && !wasNotProcessed(status),
      status,
      code: `http_${status}`,
      ...(status === 429 && Number.isFinite(reset) && reset > 0 ? { retryAfterSeconds: Math.max(0, Math.ceil(reset - now() / 1000)) } : {}),
    });
  }
  if (fields.isAxiosError === true) return transportError(call, error);
  // Thrown by the mail helper before any request (invalid message): nothing was sent.
  return new ProviderError({
    provider: 'sendgrid',
    operation: call.operation,
    message: `SendGrid ${call.operation} could not be sent: ${error instanceof Error ? error.message : String(error)}`,
    retryable: false,
    code: 'invalid_request',
  });
}

function errorMessages(body: unknown): string {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return '';
  return errors
    .map((item) => {
      const { message, field } = (item ?? {}) as { message?: unknown; field?: unknown };
      return `${typeof field === 'string' ? `${field}: ` : ''}${typeof message === 'string' ? message : 'error'}`;
    })
    .join('; ')
    .slice(0, 500);
}
