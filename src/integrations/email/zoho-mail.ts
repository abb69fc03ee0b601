/**
 * Zoho Mail send API (`POST /api/accounts/{accountId}/messages`) with the client's own OAuth
 * token. The same endpoint saves a draft when the body carries `mode`, so the send path never
 * sets it. Zoho offers no idempotency key: a timeout or 5xx is reported as ambiguous and must not
 * be resent blindly.
 */
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import { ProviderError, type ProviderContext, wasNotProcessed } from '../../platform/provider-http.ts';
import { createMemoryCache, type KeyValueCache } from '../../platform/redis.ts';
import { zohoApiRequest, zohoErrorCode } from '../zoho/zoho-api.ts';
import { createZohoTokenSource, zohoMailBaseUrl, type ZohoTokenSource } from '../zoho/zoho-oauth.ts';
import type { EmailSender } from './email.ts';

export type ZohoMailConfig = Extract<NonNullable<ResolvedClientConfig['email']>, { provider: 'zoho' }>;

export interface ZohoMailSenderOptions {
  ctx: ProviderContext;
  clientId: string;
  config: ZohoMailConfig;
  /** Where access tokens are cached (Redis when configured); defaults to this process's memory. */
  cache?: KeyValueCache;
  /** Injected by tests or by a caller that shares one token source with Zoho Calendar. */
  tokens?: ZohoTokenSource;
  timeoutMs?: number;
}

/** Senders may be built per message; the token cache must outlive them. */
const processTokenCache = createMemoryCache();

/** `"Biz <owner@biz.example>"` → `owner@biz.example`: Zoho checks fromAddress against the account's addresses. */
function addressOf(mailbox: string): string {
  const match = /<([^<>]+)>\s*$/.exec(mailbox);
  return (match?.[1] ?? mailbox).trim();
}

export function createZohoMailSender(options: ZohoMailSenderOptions): EmailSender {
  const { ctx, clientId, config } = options;
  const tokens =
    options.tokens ??
    createZohoTokenSource({
      ctx,
      cache: options.cache ?? processTokenCache,
      clientId,
      dataCenter: config.data_center,
      oauth: config.oauth,
      accountsBaseUrl: config.accounts_base_url,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
  const url = `${zohoMailBaseUrl(config.data_center, config.api_base_url)}/accounts/${encodeURIComponent(config.account_id)}/messages`;
  const fromAddress = addressOf(config.from);

  return {
    provider: 'zoho',
    async send(message) {
      // Zoho's send API takes one content part; the HTML part is sent. replyTo and our reference have
      // no field in this API (reconciling a send is not possible with Zoho Mail anyway).
      const body = {
        fromAddress,
        toAddress: message.to,
        subject: message.subject,
        content: message.html,
        mailFormat: 'html',
      };
      const response = await zohoApiRequest(ctx, tokens, {
        clientId,
        provider: 'zoho_mail',
        operation: 'send_email',
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: options.timeoutMs ?? 10_000,
        idempotent: false,
      });
      if (response.ok) {
        const data = (response.json as { data?: { messageId?: unknown } } | undefined)?.data;
        const id = data?.messageId;
        return typeof id === 'string' || typeof id === 'number' ? { providerMessageId: String(id) } : {};
      }
      const code = zohoErrorCode(response.json) ?? `http_${response.status}`;
      const serverError = response.status >= 500 && !wasNotProcessed(response.status);
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ProviderError({
        provider: 'zoho_mail',
        operation: 'send_email',
        message: `Zoho Mail send failed with HTTP ${response.status} (${code})`,
        // 429 (and a 401 that survived one token refresh) never sent anything; a 5xx may have.
        retryable: wasNotProcessed(response.status),
        ambiguous: serverError,
        status: response.status,
        code,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      });
    },
  };
}
