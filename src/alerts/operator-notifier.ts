/**
 * How alert notices reach the operator: the platform's own mail (SendGrid, sandboxed outside
 * production) and Slack-compatible incoming webhooks (the platform's, and a client's own). A
 * webhook URL may come from a client's configuration, so the POST goes through the platform's SSRF
 * guard (platform/outbound-http.ts): https only, every resolved address public (checked on the
 * address the socket uses), no redirects, a hard deadline, the answer capped at a few KiB.
 */
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { PlatformConfig } from '../platform/config.ts';
import { safeRequest } from '../platform/outbound-http.ts';

export interface OperatorNotifier {
  /** Emails the platform's alert recipients; 'off' when alert email is not configured. */
  email(subject: string, text: string): Promise<'sent' | 'off'>;
  /** POSTs `{ text, blocks? }` to a Slack-compatible incoming webhook; throws when it is refused or fails. */
  slack(url: string, payload: { text: string }): Promise<'sent'>;
  /** The platform's webhook URL, when set. */
  readonly platformSlackUrl: string | undefined;
}

export interface AlertPolicy {
  /** Remind about an incident still open (not acknowledged) this long after the last notice. */
  reminderMs: number;
  /** The problem must stay away this long before the incident resolves (flap damping). */
  clearForMs: number;
}

export const DEFAULT_CLEAR_FOR_MS = 10 * 60_000;

/** What alert jobs are given: the notice channels, the policy and the clock (tests move it). */
export interface AlertingContext {
  readonly notifier: OperatorNotifier;
  readonly policy: AlertPolicy;
  now(): Date;
}

export class NoticeDeliveryError extends Error {
  override readonly name = 'NoticeDeliveryError';
  /** False when retrying cannot help (a blocked address, a refused URL). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

export interface OperatorNotifierOptions {
  config: PlatformConfig['alerts'];
  /** Test seam: let through an address the guard refuses (a local fake receiver on 127.0.0.1). Never set in production. */
  allowAddress?: (ip: string) => boolean;
  /** Test seam: an extra trusted CA (the fake receiver's self-signed certificate). */
  ca?: string;
  timeoutMs?: number;
}

const SLACK_TIMEOUT_MS = 10_000;
/** Slack answers `ok` or a short error word; nothing longer is worth reading. */
const MAX_ANSWER_BYTES = 4096;

/** One guarded POST of a JSON body (platform/outbound-http.ts); resolves on 2xx. */
export async function postJsonGuarded(url: string, body: unknown, options: Pick<OperatorNotifierOptions, 'allowAddress' | 'ca' | 'timeoutMs'> = {}): Promise<void> {
  const result = await safeRequest({
    url,
    headers: { 'content-type': 'application/json', 'user-agent': 'xlnc-perception-alerts/1' },
    body: JSON.stringify(body),
    timeoutMs: options.timeoutMs ?? SLACK_TIMEOUT_MS,
    maxResponseBytes: MAX_ANSWER_BYTES,
    allowAddress: options.allowAddress,
    ca: options.ca,
  });
  if (!result.ok) {
    // Nothing was sent to a blocked or redirecting URL, and sending it again changes nothing.
    throw new NoticeDeliveryError(result.message, result.code === 'timeout' || result.code === 'network_error');
  }
  if (result.status >= 200 && result.status < 300) return;
  // Slack answers 4xx for a revoked or wrong URL (no_service, action_prohibited): retrying cannot help.
  throw new NoticeDeliveryError(`webhook answered ${result.status}`, result.status === 429 || result.status >= 500);
}

export function createOperatorNotifier(options: OperatorNotifierOptions): OperatorNotifier {
  const { config } = options;
  let mail: MailService | undefined;
  if (config.mail) {
    const client = new Client();
    client.setApiKey(config.mail.apiKey);
    // After setApiKey, which resets baseUrl to the global host.
    if (config.mail.baseUrl) client.setDefaultRequest('baseUrl', config.mail.baseUrl.endsWith('/') ? config.mail.baseUrl : `${config.mail.baseUrl}/`);
    mail = new MailService();
    mail.setClient(client);
    mail.setTimeout(options.timeoutMs ?? SLACK_TIMEOUT_MS);
  }
  return {
    platformSlackUrl: config.slackWebhookUrl,
    async email(subject, text) {
      if (!mail || !config.mail || config.emailTo.length === 0) return 'off';
      try {
        await mail.send({
          to: [...config.emailTo],
          from: config.mail.from,
          subject,
          text,
          mailSettings: { sandboxMode: { enable: config.mail.sandbox } },
        });
      } catch (error) {
        const status = (error as { code?: unknown }).code;
        // The API key never appears in SendGrid's errors; the status says whether retrying can help.
        throw new NoticeDeliveryError(`platform mail failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}`, typeof status !== 'number' || status === 429 || status >= 500);
      }
      return 'sent';
    },
    async slack(url, payload) {
      await postJsonGuarded(url, payload, options);
      return 'sent';
    },
  };
}
