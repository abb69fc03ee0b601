/**
 * SMS capability: one small interface, one factory per vendor, chosen by one exhaustive switch on
 * the client's `sms.provider`. Each sender is bound to one client's credentials; deciding whether
 * to text at all (feature flags, opt-out, quiet hours, sandbox) is the caller's job.
 */
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import type { ProviderContext } from '../../platform/provider-http.ts';
import { ProviderError } from '../../platform/provider-http.ts';
import { providerBaseUrl } from '../provider-endpoint.ts';
import { createText180Sender, text180DefaultUrl } from './text180.ts';
import { createTwilioSender, twilioDefaultBaseUrl } from './twilio.ts';

export { smsSegments, type SmsSegments } from './sms-segments.ts';

export interface SmsMessage {
  /** Recipient in E.164 (see customers/phone.ts). */
  to: string;
  body: string;
  /** Where the provider posts delivery updates (Twilio only; Text180 has none). */
  statusCallbackUrl?: string;
  /** Our own id for this message (the messages row), for logs and reconciliation. */
  reference: string;
}

export interface SmsSendResult {
  /** The provider's id (Twilio SM…); Text180 returns none. */
  providerMessageId?: string;
  /** `sent`: the provider reports it handed on; `queued`: accepted, delivery reported later. */
  status: 'sent' | 'queued';
}

export interface SmsLookupQuery {
  to: string;
  body: string;
  /** Lower bound for the provider's send time (a little before our attempt, to allow clock skew). */
  sentAfter: Date;
}

/**
 * Sends SMS for one client. Failures are thrown as ProviderError: `retryable` says a later attempt
 * may succeed, `ambiguous` says the message may already have gone out (reconcile with `lookup`
 * where the provider has one, never resend blindly).
 */
export interface SmsSender {
  readonly provider: 'text180' | 'twilio';
  send(message: SmsMessage): Promise<SmsSendResult>;
  /** Finds a message this client sent (after an ambiguous failure); undefined when none matches. */
  lookup?(query: SmsLookupQuery): Promise<{ providerMessageId: string; status: string } | undefined>;
}

export type SmsClient = { readonly id: string; readonly config: ResolvedClientConfig };

export interface SmsSenderOptions {
  /** Per-request timeout; the issue fixes 10 s for SMS. */
  timeoutMs?: number;
}

export const smsTimeoutMs = 10_000;

export function smsSenderFor(client: SmsClient, ctx: ProviderContext, options: SmsSenderOptions = {}): SmsSender {
  const sms = client.config.sms;
  const timeoutMs = options.timeoutMs ?? smsTimeoutMs;
  switch (sms?.provider) {
    case 'text180':
      return createText180Sender(client.id, { ...sms, api_base_url: providerBaseUrl(client, 'sms', sms.api_base_url, text180DefaultUrl) }, ctx, { timeoutMs });
    case 'twilio':
      return createTwilioSender(client.id, { ...sms, api_base_url: providerBaseUrl(client, 'sms', sms.api_base_url, twilioDefaultBaseUrl) }, ctx, { timeoutMs });
    case undefined:
      throw new Error(`client ${client.id} has no SMS provider configured`);
  }
}

/**
 * The recipient has opted out at the provider (Twilio 21610: they replied STOP). The caller
 * records the customer as opted out and the message as `suppressed`; never retry.
 */
export function isOptOutError(error: unknown): boolean {
  return error instanceof ProviderError && error.provider === 'twilio' && error.code === '21610';
}
