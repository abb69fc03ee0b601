/**
 * Retell signs every webhook, inbound-call and function request with the client's API key:
 * header `x-retell-signature: v=<unix ms>,d=<hex HMAC-SHA256(key, rawBody + ms)>`.
 * Our own synchronous verifier (the SDK's helper is async in 5.x, and an un-awaited call lets
 * every forgery through). The signature covers the raw bytes only, never the URL.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'invalid' | 'stale';

/** Accepted clock skew: signatures older than 5 minutes or more than 1 minute ahead are stale. */
export const MAX_AGE_MS = 5 * 60_000;
export const MAX_AHEAD_MS = 60_000;

const HEADER = /^v=(\d{1,16}),d=([0-9a-fA-F]{64})$/;

export function signRetellBody(rawBody: string | Buffer, apiKey: string, timestampMs: number): string {
  const digest = createHmac('sha256', apiKey).update(rawBody).update(String(timestampMs)).digest('hex');
  return `v=${timestampMs},d=${digest}`;
}

export function verifyRetellSignature(
  rawBody: string | Buffer,
  apiKey: string,
  header: string | undefined,
  nowMs: number = Date.now(),
): SignatureCheck {
  if (!header) return 'missing';
  const match = HEADER.exec(header.trim());
  if (!match) return 'invalid';
  const [, stamp = '', digest = ''] = match;
  const timestamp = Number(stamp);
  if (!Number.isSafeInteger(timestamp)) return 'invalid';
  const expected = createHmac('sha256', apiKey).update(rawBody).update(stamp).digest();
  if (!timingSafeEqual(expected, Buffer.from(digest, 'hex'))) return 'invalid';
  // Checked after the digest so that "stale" is only ever said of a genuine signature.
  if (nowMs - timestamp > MAX_AGE_MS || timestamp - nowMs > MAX_AHEAD_MS) return 'stale';
  return 'valid';
}
