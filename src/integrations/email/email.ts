/**
 * Email capability: one small interface, one factory per vendor, chosen by one exhaustive switch
 * on the client's `email.provider`. Each sender is bound to one client's credentials.
 */
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import type { ProviderContext } from '../../platform/provider-http.ts';
import type { KeyValueCache } from '../../platform/redis.ts';
import { providerBaseUrl } from '../provider-endpoint.ts';
import { zohoMailBaseUrl } from '../zoho/zoho-oauth.ts';
import { createSendgridSender, sendgridDefaultBaseUrl } from './sendgrid.ts';
import { createZohoMailSender } from './zoho-mail.ts';

export interface EmailMessage {
  /** A single recipient address. */
  to: string;
  toName?: string;
  /** One line: renderEmail (templates.ts) already folds CR/LF into spaces. */
  subject: string;
  text: string;
  html: string;
  replyTo?: string;
  /** Our own id for this message (the messages row): echoed by the provider where it can be. */
  reference: string;
}

export interface EmailSendResult {
  /** The provider's id (SendGrid X-Message-Id, Zoho messageId) when it returns one. */
  providerMessageId?: string;
}

/**
 * Sends email for one client from that client's own address. Failures are thrown as
 * ProviderError (retryable / ambiguous say whether and how to retry); success means accepted.
 */
export interface EmailSender {
  readonly provider: 'sendgrid' | 'zoho';
  send(message: EmailMessage): Promise<EmailSendResult>;
}

export type EmailClient = { readonly id: string; readonly config: ResolvedClientConfig };

export interface EmailSenderOptions {
  /** Per-request timeout; the issue fixes 10 s for email. */
  timeoutMs?: number;
  /** Zoho access-token cache shared across senders (Redis when configured); Zoho only. */
  zohoTokenCache?: KeyValueCache;
}

export function emailSenderFor(client: EmailClient, ctx: ProviderContext, options: EmailSenderOptions = {}): EmailSender {
  const email = client.config.email;
  switch (email?.provider) {
    case 'sendgrid':
      return createSendgridSender(client.id, { ...email, api_base_url: providerBaseUrl(client, 'email', email.api_base_url, sendgridDefaultBaseUrl) }, ctx, { timeoutMs: options.timeoutMs });
    case 'zoho': {
      const baseUrl = providerBaseUrl(client, 'email', email.api_base_url, zohoMailBaseUrl(email.data_center));
      return createZohoMailSender({
        ctx,
        clientId: client.id,
        config: { ...email, api_base_url: baseUrl, accounts_base_url: email.accounts_base_url ?? (client.config.environment === 'test' ? baseUrl : undefined) },
        ...(options.zohoTokenCache !== undefined ? { cache: options.zohoTokenCache } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
    }
    case undefined:
      throw new Error(`client ${client.id} has no email provider configured`);
  }
}
