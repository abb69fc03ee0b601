/**
 * How alert notices reach the operator: the platform's own mail (SendGrid, sandboxed outside
 * production) and Slack-compatible incoming webhooks (the platform's, and a client's own). A
 * webhook URL may come from a client's configuration, so the POST is treated as untrusted outbound
 * traffic: https only, every resolved address public (checked on the address the socket uses),
 * no redirects, a hard deadline, the answer read no further than a few KiB.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { addressBlockReason } from '../functions/custom-http.ts';
import type { PlatformConfig } from '../platform/config.ts';

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
  /**
   * Test seam: let through an address the guard refuses, over plain http (a local fake receiver
   * on 127.0.0.1). Never set in production.
   */
  allowAddress?: (ip: string) => boolean;
  timeoutMs?: number;
}

const SLACK_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 4096;

function guardedLookup(allowAddress: ((ip: string) => boolean) | undefined): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family === 4 || options.family === 6 ? options.family : 0 }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const reason = addressBlockReason(address);
        if (reason && !allowAddress?.(address)) return callback(Object.assign(new Error(`${hostname} resolves to ${address}: ${reason}`), { code: 'ERR_XLNC_BLOCKED_ADDRESS' }), []);
      }
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

/** One guarded POST of a JSON body; resolves on 2xx. */
export function postJsonGuarded(target: string, body: unknown, options: Pick<OperatorNotifierOptions, 'allowAddress' | 'timeoutMs'> = {}): Promise<void> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.reject(new NoticeDeliveryError('webhook URL is not a valid URL', false));
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const testOnly = options.allowAddress !== undefined && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !testOnly) return Promise.reject(new NoticeDeliveryError('only https:// webhook URLs are allowed', false));
  if (isIP(hostname)) {
    const reason = addressBlockReason(hostname);
    if (reason && !options.allowAddress?.(hostname)) return Promise.reject(new NoticeDeliveryError(`${hostname} is ${reason}`, false));
  }
  const payload = JSON.stringify(body);
  const timeoutMs = options.timeoutMs ?? SLACK_TIMEOUT_MS;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: NoticeDeliveryError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!req.destroyed) req.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new NoticeDeliveryError(`no answer within ${timeoutMs} ms`, true)), timeoutMs);
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      hostname,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      // A fresh connection per call: a pooled socket would skip this call's address check.
      agent: false,
      lookup: guardedLookup(options.allowAddress),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'xlnc-perception-alerts/1' },
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const blocked = error.code === 'ERR_XLNC_BLOCKED_ADDRESS';
      finish(new NoticeDeliveryError(blocked ? error.message : `${error.code ?? 'error'}: ${error.message}`, !blocked));
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_ANSWER_BYTES) res.destroy();
      });
      res.on('close', () => {
        if (status >= 200 && status < 300) return finish();
        if (status >= 300 && status < 400) return finish(new NoticeDeliveryError(`webhook answered ${status}; redirects are not followed`, false));
        // Slack answers 4xx for a revoked or wrong URL: retrying the same request cannot help.
        finish(new NoticeDeliveryError(`webhook answered ${status}`, status === 429 || status >= 500));
      });
      res.resume();
    });
    req.end(payload);
  });
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
      await postJsonGuarded(url, payload, { ...(options.allowAddress ? { allowAddress: options.allowAddress } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
      return 'sent';
    },
  };
}
