/**
 * pino logging with secret scrubbing. Known secret values (client credentials, platform keys) are
 * registered with the scrubber and replaced in every serialized line before it is written, so a
 * secret that reaches a log message by accident still never reaches the output. Field-name
 * redaction covers headers and fields that hold secrets we have not seen yet.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Log correlation only: who the current request is for. Never used for authorization. */
export const logContext = new AsyncLocalStorage<{ requestId: string; clientId?: string; callId?: string }>();

export interface SecretScrubber {
  add(value: string | undefined): void;
  scrub(text: string): string;
  readonly size: number;
}

const MIN_SECRET_LENGTH = 6;
const REDACTED = '[REDACTED]';

export function createSecretScrubber(): SecretScrubber {
  const values = new Set<string>();
  let pattern: RegExp | undefined;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    add(value) {
      // Very short values would scrub ordinary words; secrets are never that short.
      if (!value || value.length < MIN_SECRET_LENGTH || values.has(value)) return;
      values.add(value);
      // JSON-escaped form too: a secret with quotes or backslashes appears escaped in a log line.
      const jsonForm = JSON.stringify(value).slice(1, -1);
      if (jsonForm !== value) values.add(jsonForm);
      pattern = new RegExp([...values].sort((a, b) => b.length - a.length).map(escape).join('|'), 'g');
    },
    scrub(text) {
      return pattern ? text.replace(pattern, REDACTED) : text;
    },
    get size() {
      return values.size;
    },
  };
}

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-retell-signature"]',
  'req.headers["x-twilio-signature"]',
  '*.password',
  '*.api_key',
  '*.auth_key',
  '*.auth_token',
  '*.client_secret',
  '*.refresh_token',
  '*.access_token',
];

export interface LoggerOptions {
  level: string;
  scrubber: SecretScrubber;
  /** Where lines go (default stdout); tests pass a capture stream. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level,
      base: { service: 'xlnc' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = logContext.getStore();
        if (!ctx) return {};
        return { request_id: ctx.requestId, client_id: ctx.clientId, call_id: ctx.callId };
      },
      hooks: {
        streamWrite: (line) => options.scrubber.scrub(line),
      },
    },
    destination,
  );
}
