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

/** Characters of API keys, tokens and base64 secrets: such a secret is one "word" of a log line. */
const WORD = /[A-Za-z0-9_~+/.-]+/g;
const WORDLIKE = /^[A-Za-z0-9_~+/.-]+$/;
/** Punctuation a sentence may glue to a secret ("… was SECRET.", "-SECRET-"). */
const EDGES = /^([.-]*)(.*?)([.-]*)$/s;

/**
 * Scrubbing must stay cheap with thousands of clients' secrets: word-like secrets (nearly all)
 * are looked up word by word in a Set, O(line length) whatever their number; the few others go
 * through one alternation, rebuilt lazily once after a batch of additions.
 */
export function createSecretScrubber(): SecretScrubber {
  const words = new Set<string>();
  const others = new Set<string>();
  let othersPattern: RegExp | undefined;
  let othersDirty = false;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const addOne = (value: string) => {
    // Base64 padding is not part of the word ("key=SECRET==" splits at "="); the padding reveals nothing.
    const unpadded = value.replace(/=+$/, '');
    if (WORDLIKE.test(unpadded) && unpadded.length >= MIN_SECRET_LENGTH) words.add(unpadded);
    else if (!others.has(value)) {
      others.add(value);
      othersDirty = true;
    }
  };
  const redactWord = (word: string): string => {
    if (words.has(word)) return REDACTED;
    const [, lead = '', core = '', tail = ''] = EDGES.exec(word) ?? [];
    if (words.has(core)) return `${lead}${REDACTED}${tail}`;
    if (tail && words.has(core + tail)) return `${lead}${REDACTED}`;
    if (lead && words.has(lead + core)) return `${REDACTED}${tail}`;
    return word;
  };
  return {
    add(value) {
      // Very short values would scrub ordinary words; secrets are never that short.
      if (!value || value.length < MIN_SECRET_LENGTH) return;
      addOne(value);
      // JSON-escaped form too: a secret with quotes or backslashes appears escaped in a log line.
      const jsonForm = JSON.stringify(value).slice(1, -1);
      if (jsonForm !== value) addOne(jsonForm);
    },
    scrub(text) {
      let out = words.size > 0 ? text.replace(WORD, redactWord) : text;
      if (others.size > 0) {
        if (othersDirty || !othersPattern) {
          othersPattern = new RegExp([...others].sort((a, b) => b.length - a.length).map(escape).join('|'), 'g');
          othersDirty = false;
        }
        out = out.replace(othersPattern, REDACTED);
      }
      return out;
    },
    get size() {
      return words.size + others.size;
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
