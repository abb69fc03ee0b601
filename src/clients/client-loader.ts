import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { STANDARD_WEBHOOK_SECRET } from '../platform/standard-webhooks.ts';
import { sandboxNotices } from '../integrations/provider-endpoint.ts';
import { decryptSecret } from '../platform/secrets.ts';
import { isLegacyClientConfig, normalizeLegacyClientConfig } from './client-legacy.ts';
import type { ClientConfig, ClientLoadStatus, ConfigIssue, DeepReadonly, ResolvedClientConfig } from './client.schema.ts';
import { validateEmailTemplates, validateSmsTemplates } from '../integrations/templates/templates.ts';
import { clientConfigSchema, envReferencePattern, formatJsonPath, listSecretFields } from './client.schema.ts';

export type ClientLoaderContext = {
  env: Readonly<Record<string, string | undefined>>;
  /** ENCRYPTION_KEY and, during a rotation, older keys; `enc:v1:` values pick theirs by key id. */
  encryptionKeys: readonly Buffer[];
  logger: Logger;
};

export type ClientFileResult = {
  /** The file name without `.json`: for a valid file this equals `client_id`. */
  id: string;
  file: string;
  status: ClientLoadStatus;
  config: ResolvedClientConfig | null;
  issues: ConfigIssue[];
  /** sha256 (hex) of the file bytes. */
  configHash: string;
  warnings: string[];
  /** Every resolved secret, so log redaction can scrub them. Never log this list. */
  secretValues: string[];
  /** Set when the file used the original flat format. */
  legacyHint: string | null;
};

// Client files are a few KB: a synchronous read costs ~25 µs against ~70-150 µs for the
// promise-based readFile (open/stat/read/close each through the thread pool), so batches are read
// synchronously and the event loop is yielded to every few milliseconds instead.
const yieldEveryMs = 4;

export async function loadClientFile(file: string, ctx: ClientLoaderContext): Promise<ClientFileResult> {
  return Promise.resolve(loadClientFileSync(file, ctx));
}

export function loadClientFileSync(file: string, ctx: ClientLoaderContext): ClientFileResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return invalidResult(file, '', [{ file, path: '$', message: `cannot read file (${code})` }]);
  }
  return parseClientSource(file, bytes, ctx);
}

/** Loads every `*.json` in `dir` (not recursive), sorted by file name. */
export async function loadClientsDir(dir: string, ctx: ClientLoaderContext): Promise<ClientFileResult[]> {
  const names = await listClientFileNames(dir);
  return mapYielding(names, (name) => loadClientFileSync(join(dir, name), ctx));
}

/**
 * How a long scan shares the main thread. `sliceMs`: the longest stretch of work between turns
 * given to the event loop. `restMs`: a pause after each slice (0: resume at once, as soon as
 * pending I/O has run). A loader someone waits for runs flat out; a background re-scan rests, so
 * it takes a small share of the thread however many files it stats.
 */
export interface Pace {
  sliceMs: number;
  restMs: number;
}

const FLAT_OUT: Pace = { sliceMs: yieldEveryMs, restMs: 0 };

/** Maps synchronously in slices of `pace.sliceMs`, so a large scan never stalls requests. */
export async function mapYielding<T, R>(items: readonly T[], fn: (item: T) => R, pace: Pace = FLAT_OUT): Promise<R[]> {
  const results: R[] = [];
  let sliceStarted = performance.now();
  for (const item of items) {
    results.push(fn(item));
    if (performance.now() - sliceStarted > pace.sliceMs) {
      await new Promise<void>((resolve) => (pace.restMs > 0 ? setTimeout(resolve, pace.restMs) : setImmediate(resolve)));
      sliceStarted = performance.now();
    }
  }
  return results;
}

export async function listClientFileNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  // Dotfiles are skipped: editors park swap and backup copies there (.#foo.json, .foo.json.swp).
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json') && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** Parses, normalizes, validates and resolves one file's bytes. Pure apart from the warning log. */
export function parseClientSource(file: string, bytes: Buffer, ctx: ClientLoaderContext): ClientFileResult {
  const configHash = createHash('sha256').update(bytes).digest('hex');
  const id = basename(file, '.json');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return invalidResult(file, configHash, [{ file, path: '$', message: describeJsonError(text) }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return invalidResult(file, configHash, [{ file, path: '$', message: 'must be a JSON object' }]);
  }

  const warnings: string[] = [];
  let candidate: unknown = raw;
  let legacyHint: string | null = null;
  // A flat file's issues name the keys its author wrote (`$.zoho_client_id`), not the nested path.
  let userPath = (path: string) => path;
  const unknownKeyIssues: ConfigIssue[] = [];
  if (isLegacyClientConfig(raw)) {
    const normalized = normalizeLegacyClientConfig(raw);
    candidate = normalized.config;
    legacyHint = normalized.hint;
    userPath = (path) => legacyPath(path, normalized.sourceKeys, normalized.expectedKeys);
    for (const key of normalized.unknownKeys) unknownKeyIssues.push({ file, path: formatJsonPath([key]), message: UNKNOWN_KEY });
    for (const key of normalized.inapplicableKeys) warnings.push(`${formatJsonPath([key])}: does not apply to this client's providers, ignored`);
  }

  const parsed = clientConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue): ConfigIssue[] => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ file, path: userPath(formatJsonPath([...issue.path, key])), message: UNKNOWN_KEY }));
      }
      const path = formatJsonPath(issue.path);
      return [{ file, path: userPath(path), message: userPath(path) === path ? issue.message : legacyMessage(issue.message, path) }];
    });
    return { ...invalidResult(file, configHash, [...unknownKeyIssues, ...issues]), warnings, legacyHint };
  }

  const config = parsed.data;
  const issues: ConfigIssue[] = [...unknownKeyIssues];
  if (config.client_id !== id) {
    issues.push({ file, path: '$.client_id', message: `"${config.client_id}" does not match the file name "${id}.json"` });
  }
  // Templates are checked here so a text that would run to many segments fails validation, not a send.
  for (const issue of [...validateSmsTemplates(config), ...validateEmailTemplates(config)]) issues.push({ file, ...issue });

  const secretValues: string[] = [];
  const resolved = structuredClone(config);
  for (const field of listSecretFields(config)) {
    const path = formatJsonPath(field.path);
    const outcome = resolveSecret(field.value, config.environment, ctx);
    switch (outcome.kind) {
      case 'ok':
        secretValues.push(outcome.value);
        setAtPath(resolved, field.path, outcome.value);
        if (field.path[0] === 'functions' && !STANDARD_WEBHOOK_SECRET.test(outcome.value)) {
          warnings.push(`${path}: not a Standard Webhooks secret (whsec_ + base64); the endpoint cannot check it with the standardwebhooks libraries' defaults. Make one with \`npx xlnc secrets webhook\``);
        }
        if (outcome.literal) {
          warnings.push(`${path}: literal secret (allowed only because environment is "test")`);
          ctx.logger.warn({ client_id: id, file, path }, 'literal secret in a test client config; use env: or enc:v1: values for live clients');
        }
        break;
      case 'issue':
        issues.push({ file, path: userPath(path), message: userPath(path) === path ? outcome.message : legacyMessage(outcome.message, path) });
        break;
    }
  }

  if (issues.length > 0) return { ...invalidResult(file, configHash, issues), warnings, secretValues, legacyHint };
  warnings.push(...sandboxNotices(config));
  return {
    id,
    file,
    status: config.status,
    config: deepFreeze(resolved),
    issues: [],
    configHash,
    warnings,
    secretValues,
    legacyHint,
  };
}

type SecretOutcome = { kind: 'ok'; value: string; literal: boolean } | { kind: 'issue'; message: string };

function resolveSecret(value: string, environment: ClientConfig['environment'], ctx: ClientLoaderContext): SecretOutcome {
  const envMatch = envReferencePattern.exec(value);
  if (envMatch !== null) {
    const name = envMatch[1] ?? '';
    const resolved = ctx.env[name];
    if (resolved === undefined || resolved === '') return { kind: 'issue', message: `environment variable ${name} is not set` };
    return { kind: 'ok', value: resolved, literal: false };
  }
  if (value.startsWith('enc:')) {
    try {
      return { kind: 'ok', value: decryptSecret(value, ctx.encryptionKeys), literal: false };
    } catch (error) {
      // decryptSecret's messages carry no plaintext or key material.
      return { kind: 'issue', message: (error as Error).message };
    }
  }
  if (environment === 'test') return { kind: 'ok', value, literal: true };
  return {
    kind: 'issue',
    message: 'literal secret values are only allowed when environment is "test"; use env:VAR_NAME or an enc:v1: value from `xlnc secrets encrypt`',
  };
}

const UNKNOWN_KEY = 'unknown key (check the spelling)';

/**
 * The flat key behind a canonical path: the key the file used (longest matching prefix, the rest of
 * the path kept), else the key that would fill it when it is missing; else the path unchanged.
 */
function legacyPath(path: string, sourceKeys: Record<string, string>, expectedKeys: Record<string, string>): string {
  let best: string | undefined;
  for (const canonical of Object.keys(sourceKeys)) {
    if ((path === canonical || path.startsWith(`${canonical}.`) || path.startsWith(`${canonical}[`)) && (best === undefined || canonical.length > best.length)) {
      best = canonical;
    }
  }
  if (best !== undefined) return `${sourceKeys[best] ?? ''}${path.slice(best.length)}`;
  return expectedKeys[path] ?? path;
}

/** A schema message for a flat key, with the nested field it stands for (for whoever upgrades the file). */
function legacyMessage(message: string, canonicalPath: string): string {
  const missing = /received undefined/.test(message);
  return `${missing ? 'required, missing' : message} (${canonicalPath.replace(/^\$\./, '')} in the nested format)`;
}

function invalidResult(file: string, configHash: string, issues: ConfigIssue[]): ClientFileResult {
  return {
    id: basename(file, '.json'),
    file,
    status: 'invalid',
    config: null,
    issues,
    configHash,
    warnings: [],
    secretValues: [],
    legacyHint: null,
  };
}

function setAtPath(target: unknown, path: readonly (string | number)[], value: string): void {
  let node = target as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}

/**
 * V8's JSON.parse messages quote a slice of the input, which may be a secret, so the position is
 * found with a small scanner and the message is built without any file content.
 */
function describeJsonError(text: string): string {
  if (text.trim() === '') return 'invalid JSON: the file is empty';
  const offset = findJsonErrorOffset(text);
  const before = text.slice(0, Math.max(offset, 0));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const what = offset >= text.length ? 'unexpected end of input' : 'unexpected character';
  return `invalid JSON: ${what} at line ${line}, column ${column} (position ${offset})`;
}

function findJsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonScanError(i);
  };
  const skipWhitespace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i += 1;
  };
  const expectWord = (word: string): void => {
    for (const char of word) {
      if (text[i] !== char) fail();
      i += 1;
    }
  };
  const scanString = (): void => {
    i += 1;
    while (i < text.length) {
      const char = text[i] ?? '';
      if (char === '"') {
        i += 1;
        return;
      }
      if (char === '\\') {
        const escape = text[i + 1] ?? '';
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 1;
            fail();
          }
          i += 6;
        } else if ('"\\/bfnrt'.includes(escape) && escape !== '') i += 2;
        else {
          i += 1;
          fail();
        }
        continue;
      }
      if (char < ' ') fail();
      i += 1;
    }
    fail();
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const scanValue = (): void => {
    skipWhitespace();
    const char = text[i];
    if (char === '{') {
      i += 1;
      skipWhitespace();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        skipWhitespace();
        if (text[i] !== '"') fail();
        scanString();
        skipWhitespace();
        if (text[i] !== ':') fail();
        i += 1;
        scanValue();
        skipWhitespace();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === '}') {
          i += 1;
          return;
        }
        fail();
      }
    }
    if (char === '[') {
      i += 1;
      skipWhitespace();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (;;) {
        scanValue();
        skipWhitespace();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === ']') {
          i += 1;
          return;
        }
        fail();
      }
    }
    if (char === '"') return scanString();
    if (char === 't') return expectWord('true');
    if (char === 'f') return expectWord('false');
    if (char === 'n') return expectWord('null');
    numberPattern.lastIndex = i;
    if (numberPattern.exec(text) === null) fail();
    i = numberPattern.lastIndex;
  };
  try {
    scanValue();
    skipWhitespace();
    if (i < text.length) fail();
    return text.length;
  } catch (error) {
    if (error instanceof JsonScanError) return error.offset;
    throw error;
  }
}

class JsonScanError extends Error {
  readonly offset: number;
  constructor(offset: number) {
    super('json scan error');
    this.offset = offset;
  }
}
