/**
 * Secrets of database-backed clients: write-only through the API. Incoming plain values are
 * sealed (`enc:v1:`, current ENCRYPTION_KEY) before storage; outgoing configs show masks
 * (`"••••1234"`); a masked value sent back means "keep the stored secret".
 */
import type { ClientConfig } from '../clients/client.schema.ts';
import { formatJsonPath, listSecretFields } from '../clients/client.schema.ts';
import { AppError } from '../platform/errors.ts';
import { decryptSecret, encryptSecret, encryptionKeyId, maskSecret } from '../platform/secrets.ts';

const MASK = '••••';

export function isMasked(value: string): boolean {
  return value.startsWith(MASK);
}

type Path = readonly (string | number)[];

export function getAtPath(target: unknown, path: Path): unknown {
  let node: unknown = target;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

export function setAtPath(target: unknown, path: Path, value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/**
 * Secrets a client's own admin may replace, by JSON path prefix: the credentials of its own
 * providers (texts, email, calendar). The rest stay with the platform's admins: the Retell API key
 * verifies every webhook the platform accepts for the client (whoever holds it can sign calls in
 * its name, and a wrong one refuses all of them), a custom function's signing secret belongs with
 * the function the operator set up, and the alert Slack URL is where the platform posts.
 */
export const CLIENT_REPLACEABLE_SECRET_PREFIXES = ['$.sms.', '$.email.', '$.calendar.'] as const;

/** Whether a user of `role` may replace the secret at `path` (a JSON path like `$.sms.auth_token`). */
export function mayReplaceSecret(role: string, path: string): boolean {
  if (role === 'platform_admin') return true;
  return role === 'client_admin' && CLIENT_REPLACEABLE_SECRET_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** 403 naming every secret in `paths` that `role` may not replace; nothing is written. */
export function refuseSecretsBeyondRole(role: string, paths: readonly string[]): void {
  const refused = paths.filter((path) => !mayReplaceSecret(role, path));
  if (refused.length === 0) return;
  const issues = refused.map((path) => ({
    path,
    message: path === '$.retell.api_key' ? "only a platform admin replaces the Retell API key (it verifies the platform's webhooks)" : 'only a platform admin replaces this secret',
  }));
  throw new AppError('forbidden', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {}, issues);
}

/** A copy of a config whose secrets hold plain values (a resolved file client), with every secret masked. */
export function maskResolvedConfig(config: ClientConfig): ClientConfig {
  const copy = structuredClone(config);
  for (const field of listSecretFields(config)) setAtPath(copy, field.path, maskSecret(field.value));
  return copy;
}

/** A copy of a stored config (sealed secrets) with every secret masked; an unopenable one shows only the mask. */
export function maskStoredConfig(config: ClientConfig, keys: readonly Buffer[]): ClientConfig {
  const copy = structuredClone(config);
  for (const field of listSecretFields(config)) {
    let shown = MASK;
    try {
      shown = maskSecret(decryptSecret(field.value, keys));
    } catch {
      // Sealed with a key that is no longer configured: the mask alone says a secret is stored.
    }
    setAtPath(copy, field.path, shown);
  }
  return copy;
}

/**
 * Prepares a validated config for storage: a secret equal to the stored one or masked keeps the
 * stored sealed value; a plain value is sealed with `key`. `env:` and `enc:` values are refused:
 * the API takes the plain secret and seals it itself (an `env:` reference would let an API caller
 * point a provider credential at any platform environment variable).
 */
export function sealForStorage(config: ClientConfig, previous: ClientConfig | undefined, key: Buffer): ClientConfig {
  const sealed = structuredClone(config);
  for (const field of listSecretFields(config)) {
    const path = formatJsonPath(field.path);
    const stored = previous === undefined ? undefined : getAtPath(previous, field.path);
    if (typeof stored === 'string' && field.value === stored) continue;
    if (isMasked(field.value)) {
      if (typeof stored !== 'string') {
        throw new AppError('invalid_payload', `${path}: a masked value keeps the stored secret, but none is stored here; send the secret`);
      }
      setAtPath(sealed, field.path, stored);
      continue;
    }
    if (field.value.startsWith('env:') || field.value.startsWith('enc:')) {
      throw new AppError('invalid_payload', `${path}: send the plain secret; the API seals it (env: and enc: values belong in client files)`);
    }
    setAtPath(sealed, field.path, encryptSecret(field.value, key));
  }
  return sealed;
}

/** Re-seals every secret not sealed with `current`; returns the new config and how many changed. */
export function resealConfig(config: ClientConfig, current: Buffer, keys: readonly Buffer[]): { config: ClientConfig; resealed: number } {
  const currentId = encryptionKeyId(current);
  const copy = structuredClone(config);
  let resealed = 0;
  for (const field of listSecretFields(config)) {
    if (field.value.startsWith(`enc:v1:${currentId}:`)) continue;
    setAtPath(copy, field.path, encryptSecret(decryptSecret(field.value, keys), current));
    resealed += 1;
  }
  return { config: copy, resealed };
}

export interface DiffEntry {
  path: string;
  from?: unknown;
  to?: unknown;
}

/**
 * Leaf-level differences between two masked views (arrays compare as one value). `secretPaths`
 * lists secrets whose stored value changed: they are recorded even when their masks look alike.
 */
export function diffConfigs(before: unknown, after: unknown, secretPaths: readonly string[] = []): DiffEntry[] {
  const entries: DiffEntry[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...path, key]);
      return;
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    entries.push({ path: formatJsonPath(path), ...(a !== undefined ? { from: a } : {}), ...(b !== undefined ? { to: b } : {}) });
  };
  walk(before ?? {}, after ?? {}, []);
  for (const path of secretPaths) {
    if (!entries.some((entry) => entry.path === path)) entries.push({ path, from: MASK, to: MASK });
  }
  return entries.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Paths of secrets whose stored (sealed) value differs between two stored configs. */
export function changedSecretPaths(before: ClientConfig | undefined, after: ClientConfig): string[] {
  return listSecretFields(after)
    .filter((field) => before === undefined || getAtPath(before, field.path) !== field.value)
    .map((field) => formatJsonPath(field.path));
}
