import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  encryptionKeyId,
  isSealedSecret,
  maskSecret,
  parseEncryptionKey,
} from './secrets.ts';

const hexKey = 'a'.repeat(64);

describe('parseEncryptionKey', () => {
  it('accepts 64 hex characters and base64 of 32 bytes', () => {
    expect(parseEncryptionKey(hexKey)).toHaveLength(32);
    const raw = randomBytes(32);
    expect(parseEncryptionKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(parseEncryptionKey(raw.toString('base64url')).equals(raw)).toBe(true);
  });

  it('rejects other lengths without echoing the input', () => {
    const short = 'deadbeefcafe';
    expect(() => parseEncryptionKey(short)).toThrow(/32 bytes/);
    try {
      parseEncryptionKey(short);
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
    expect(() => parseEncryptionKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('encryptSecret / decryptSecret', () => {
  const key = parseEncryptionKey(hexKey);

  it('round-trips and tags the value with the key id', () => {
    const sealed = encryptSecret('sk_live_123456789', key);
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    expect(sealed.split(':')[2]).toBe(encryptionKeyId(key));
    expect(isSealedSecret(sealed)).toBe(true);
    expect(sealed).not.toContain('sk_live');
    expect(decryptSecret(sealed, key)).toBe('sk_live_123456789');
    expect(decryptSecret(encryptSecret('', key), [key])).toBe('');
    expect(decryptSecret(encryptSecret('ünïcødé ☎', key), key)).toBe('ünïcødé ☎');
  });

  it('uses a fresh IV per value', () => {
    expect(encryptSecret('same', key)).not.toBe(encryptSecret('same', key));
  });

  it('picks the matching key among several (rotation)', () => {
    const oldKey = randomBytes(32);
    const sealed = encryptSecret('rotating', oldKey);
    expect(decryptSecret(sealed, [key, oldKey])).toBe('rotating');
  });

  it('fails clearly with an unknown key or a tampered value, never leaking the plaintext', () => {
    const sealed = encryptSecret('top-secret-value', key);
    const other = randomBytes(32);
    expect(() => decryptSecret(sealed, [other])).toThrow(/not among the configured keys/);
    expect(() => decryptSecret(sealed, [])).toThrow(/not configured/);

    const parts = sealed.split(':');
    const ciphertext = Buffer.from(parts[5]!, 'base64url');
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[5] = ciphertext.toString('base64url');
    const tampered = parts.join(':');
    let message = '';
    try {
      decryptSecret(tampered, key);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/authentication failed/);
    expect(message).not.toContain('top-secret');
    expect(message).not.toContain(hexKey);
  });

  it('rejects a value re-labelled with another key id', () => {
    const other = randomBytes(32);
    const sealed = encryptSecret('x', key).split(':');
    sealed[2] = encryptionKeyId(other);
    expect(() => decryptSecret(sealed.join(':'), [key, other])).toThrow(/authentication failed/);
  });

  it('rejects keys of the wrong size', () => {
    expect(() => encryptSecret('x', randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('isSealedSecret / maskSecret', () => {
  it('recognises only well-formed sealed values', () => {
    expect(isSealedSecret('enc:v1:abc')).toBe(false);
    expect(isSealedSecret('env:FOO')).toBe(false);
    expect(isSealedSecret('plain')).toBe(false);
  });

  it('masks all but the last 4 characters, or everything when short', () => {
    expect(maskSecret('SG.abcdefgh1234')).toBe('••••1234');
    expect(maskSecret('1234567')).toBe('••••');
    expect(maskSecret('')).toBe('••••');
  });
});
