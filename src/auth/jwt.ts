/**
 * Compact JWS with HS256 only. The algorithm is pinned: a token whose header names any other
 * algorithm (`none`, HS512, RS256 …) is rejected before its signature is looked at, so a token
 * can never choose how it is verified. Times are seconds since the epoch (RFC 7519 NumericDate).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims this platform reads; other registered claims pass through untouched. */
export type JwtClaims = Record<string, unknown> & {
  exp: number;
  iat: number;
  nbf?: number;
};

export type JwtVerification =
  | { ok: true; claims: JwtClaims }
  | { ok: false; reason: 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not_yet_valid' };

/** Allowed clock difference between instances, seconds. */
export const JWT_LEEWAY_SECONDS = 30;

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

function hmac(secret: string, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Signs `claims` with `secret`. `iat` defaults to `now` and `exp` to `now + expiresInSeconds`.
 */
export function signJwt(
  claims: Record<string, unknown>,
  secret: string,
  options: { expiresInSeconds: number; now?: number },
): string {
  const now = options.now ?? nowSeconds();
  const payload = base64url(JSON.stringify({ ...claims, iat: now, exp: now + options.expiresInSeconds }));
  const signature = hmac(secret, `${HEADER}.${payload}`).toString('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Verifies an HS256 token's header, signature (constant time) and exp / nbf / iat. */
export function verifyJwt(
  token: string,
  secret: string,
  options: { now?: number; leewaySeconds?: number } = {},
): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const header = parseJsonObject(headerPart);
  if (header === undefined) return { ok: false, reason: 'malformed' };
  // Pinned: only HS256, and no header fields that could redirect key selection.
  if (header.alg !== 'HS256' || 'jku' in header || 'jwk' in header || 'x5u' in header || 'crit' in header) {
    return { ok: false, reason: 'algorithm' };
  }
  if (!BASE64URL.test(signaturePart)) return { ok: false, reason: 'signature' };
  const expected = hmac(secret, `${headerPart}.${payloadPart}`);
  const given = Buffer.from(signaturePart, 'base64url');
  // Non-canonical encodings of the same bytes are refused too, so a token has one spelling.
  if (given.length !== expected.length || given.toString('base64url') !== signaturePart || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature' };
  }
  const claims = parseJsonObject(payloadPart);
  if (claims === undefined || !isTime(claims.exp) || !isTime(claims.iat)) return { ok: false, reason: 'malformed' };
  if (claims.nbf !== undefined && !isTime(claims.nbf)) return { ok: false, reason: 'malformed' };
  const now = options.now ?? nowSeconds();
  const leeway = options.leewaySeconds ?? JWT_LEEWAY_SECONDS;
  if (now >= claims.exp + leeway) return { ok: false, reason: 'expired' };
  if ((claims.nbf !== undefined && now + leeway < claims.nbf) || now + leeway < claims.iat) {
    return { ok: false, reason: 'not_yet_valid' };
  }
  return { ok: true, claims: claims as JwtClaims };
}
