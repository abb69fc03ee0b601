/**
 * Text180 (txt180 / TXTPKG) SMS. There are no public vendor docs: this contract comes from two
 * independent public scripts that post the same XML document (../shared/reference/providers.md §4)
 * and treat a reply containing `<ok/>` as success. Everything else is an assumption to confirm with
 * Text180, so the adapter stays small and conservative: US numbers only, no message id, no lookup,
 * and anything that might have been sent is reported as ambiguous (there is no dedupe to lean on).
 */
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import type { ProviderContext } from '../../platform/provider-http.ts';
import { ProviderError, providerFetch, readCapped, retryAfterSeconds, wasNotProcessed } from '../../platform/provider-http.ts';
import type { SmsSender } from './sms.ts';

export type Text180SmsConfig = Extract<NonNullable<ResolvedClientConfig['sms']>, { provider: 'text180' }>;

export const text180DefaultUrl = 'https://www.txt180.com/members/api.php';

const usE164 = /^\+1\d{10}$/;

export function createText180Sender(clientId: string, config: Text180SmsConfig, ctx: ProviderContext, options: { timeoutMs: number }): SmsSender {
  const url = config.api_base_url ?? text180DefaultUrl;
  const fail = (fields: { message: string; retryable: boolean; ambiguous?: boolean; status?: number; code?: string; retryAfterSeconds?: number }) =>
    new ProviderError({ provider: 'text180', operation: 'send_sms', ...fields });

  return {
    provider: 'text180',
    async send(message) {
      if (!usE164.test(message.to)) {
        throw fail({ message: 'Text180 sends to US numbers (+1 and 10 digits) only', retryable: false, code: 'unsupported_destination' });
      }
      const response = await providerFetch(ctx, {
        clientId,
        provider: 'text180',
        operation: 'send_sms',
        url,
        init: { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: text180SendXml(config, message.to, message.body) },
        timeoutMs: options.timeoutMs,
      });
      const body = await readCapped(response, 16 * 1024).catch(() => '');
      if (wasNotProcessed(response.status)) {
        throw fail({ message: `Text180 did not take the request (HTTP ${response.status})`, retryable: true, status: response.status, code: response.status === 429 ? 'rate_limited' : 'unavailable', retryAfterSeconds: retryAfterSeconds(response) });
      }
      if (response.status >= 500) {
        throw fail({ message: `Text180 answered HTTP ${response.status}; the message may have been sent`, retryable: false, ambiguous: true, status: response.status });
      }
      if (response.ok && /<ok\s*\/>/i.test(body)) return { status: 'sent' };
      const reason = /<error>([\s\S]{0,200}?)<\/error>/i.exec(body)?.[1]?.trim();
      throw fail({
        message: `Text180 rejected the message: ${reason ?? (body.slice(0, 200) || `HTTP ${response.status}`)}`,
        retryable: false,
        status: response.status,
        code: response.ok ? 'rejected' : `http_${response.status}`,
      });
    },
  };
}

/** The request document (§4.2). Element text is XML-escaped; the message goes in CDATA. */
export function text180SendXml(config: Pick<Text180SmsConfig, 'auth_key' | 'account_id' | 'short_code' | 'keyword'>, to: string, body: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<sms>',
    `<auth_key>${escapeXml(config.auth_key)}</auth_key>`,
    '<command>send_message</command>',
    `<account_id>${escapeXml(config.account_id)}</account_id>`,
    `<short_code>${escapeXml(config.short_code)}</short_code>`,
    `<keyword>${escapeXml(config.keyword)}</keyword>`,
    `<message>${cdata(body)}</message>`,
    `<contacts><contact_number>${escapeXml(to)}</contact_number></contacts>`,
    '</sms>',
  ].join('\n');
}

// Characters XML 1.0 does not allow anywhere, not even in CDATA: C0 controls other than tab, LF,
// CR, lone surrogates, U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const invalidXmlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXml(value: string): string {
  return value
    .replace(invalidXmlChars, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** CDATA cannot contain `]]>`: close the section between `]]` and `>` and open a new one. */
export function cdata(value: string): string {
  return `<![CDATA[${value.replace(invalidXmlChars, '').replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}
