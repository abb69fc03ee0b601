import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Sealed secrets: `enc:v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts), AES-256-GCM.
 * The key id lets several keys be configured at once during a rotation; the prefix
 * `enc:v1:<keyId>` is bound as additional authenticated data so a value cannot be
 * re-labelled to another version or key without failing authentication.
 */
const sealedPrefix = 'enc:v1:';
const keyBytes = 32;
// 96-bit IV is the GCM standard size; random per value (never reuse with the same key).
const ivBytes = 12;
const tagBytes = 16;
const sealedPattern = /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/;

/** Parses ENCRYPTION_KEY: 64 hex characters, or base64 (or base64url) of exactly 32 bytes. */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, 'base64');
    if (decoded.length === keyBytes) return decoded;
  }
  // The message never echoes the input: it is key material.
  throw new Error(
    `ENCRYPTION_KEY must be 32 bytes given as 64 hex characters or base64 (got ${trimmed.length} characters); ` +
      'generate one with `openssl rand -hex 32`',
  );
}

/** First 8 hex chars of sha256(key): identifies a key without revealing it. */
export function encryptionKeyId(key: Buffer): string {
  assertKey(key);
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export function encryptSecret(plain: string, key: Buffer): string {
  const keyId = encryptionKeyId(key);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(`${sealedPrefix}${keyId}`));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${sealedPrefix}${keyId}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
}

/**
 * Opens an `enc:v1:` value with whichever of `keys` matches its key id.
 * Errors name the key id at most, never the plaintext or key material.
 */
export function decryptSecret(text: string, keys: Buffer | readonly Buffer[]): string {
  if (!isSealedSecret(text)) throw new Error('not a sealed secret (expected enc:v1:<keyId>:<iv>:<tag>:<ciphertext>)');
  const [, , keyId = '', ivText = '', tagText = '', ciphertextText = ''] = text.split(':');
  const candidates: readonly Buffer[] = Buffer.isBuffer(keys) ? [keys] : keys;
  if (candidates.length === 0) throw new Error('cannot open sealed secret: ENCRYPTION_KEY is not configured');
  const key = candidates.find((candidate) => encryptionKeyId(candidate) === keyId);
  if (key === undefined) {
    throw new Error(`cannot open sealed secret: it was sealed with key ${keyId}, which is not among the configured keys`);
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== ivBytes || tag.length !== tagBytes) throw new Error('cannot open sealed secret: malformed iv or tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(`${sealedPrefix}${keyId}`));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // Deliberately drops the crypto error: only "it did not authenticate" is safe and useful.
    throw new Error(`cannot open sealed secret: authentication failed with key ${keyId} (value altered or truncated)`);
  }
}

export function isSealedSecret(text: string): boolean {
  return sealedPattern.test(text);
}

/**
 * For display: keeps the last 4 characters only when the value is long enough to spare them and
 * the viewer may see them (`showLast4: false` for read-only viewers: the mask alone).
 */
export function maskSecret(value: string, options: { showLast4?: boolean } = {}): string {
  return value.length < 8 || options.showLast4 === false ? '••••' : `••••${value.slice(-4)}`;
}

function assertKey(key: Buffer): void {
  if (key.length !== keyBytes) throw new Error(`encryption key must be ${keyBytes} bytes, got ${key.length}`);
}

/** Seals and opens stored secrets with the configured keys (the first one seals). */
export interface SecretSealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretSealer(keys: readonly Buffer[]): SecretSealer {
  return {
    seal(plain) {
      const key = keys[0];
      if (key === undefined) throw new Error('cannot seal a secret: ENCRYPTION_KEY is not configured');
      return encryptSecret(plain, key);
    },
    open: (sealed) => decryptSecret(sealed, keys),
  };
}
