import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueAccessToken, verifyAccessToken } from './access-token.ts';
import { signJwt, verifyJwt } from './jwt.ts';
import { hashPassword, verifyPassword } from './password.ts';

const secret = 'unit-test-secret-0123456789abcdef0123456789';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = 1_800_000_000;

function forge(header: Record<string, unknown>, payload: Record<string, unknown>, algorithm = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(algorithm, secret).update(input).digest('base64url')}`;
}

describe('HS256 JWT', () => {
  const claims = { sub: 'u1', iat: now, exp: now + 900 };

  it('round-trips and checks exp / nbf / iat with a small leeway', () => {
    const token = signJwt({ sub: 'u1' }, secret, { expiresInSeconds: 900, now });
    expect(verifyJwt(token, secret, { now })).toMatchObject({ ok: true, claims: { sub: 'u1', iat: now, exp: now + 900 } });
    expect(verifyJwt(token, secret, { now: now + 920 }).ok).toBe(true);
    expect(verifyJwt(token, secret, { now: now + 931 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyJwt(token, secret, { now: now - 120 })).toEqual({ ok: false, reason: 'not_yet_valid' });
    expect(verifyJwt(forge({ alg: 'HS256' }, { ...claims, nbf: now + 600 }), secret, { now })).toEqual({ ok: false, reason: 'not_yet_valid' });
  });

  it('rejects alg none, HS512, RS256 and key-selecting headers, whatever the signature', () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect(verifyJwt(unsigned, secret, { now })).toEqual({ ok: false, reason: 'algorithm' });
    expect(verifyJwt(`${b64({ alg: 'none' })}.${b64(claims)}`, secret, { now }).ok).toBe(false);
    expect(verifyJwt(forge({ alg: 'HS512' }, claims, 'sha512'), secret, { now })).toEqual({ ok: false, reason: 'algorithm' });
    expect(verifyJwt(forge({ alg: 'RS256' }, claims), secret, { now })).toEqual({ ok: false, reason: 'algorithm' });
    expect(verifyJwt(forge({ alg: 'HS256', jku: 'https://evil.example/keys' }, claims), secret, { now }).ok).toBe(false);
    expect(verifyJwt(forge({ alg: 'HS256' }, claims), secret, { now }).ok).toBe(true);
  });

  it('rejects a wrong secret, a tampered payload and malformed tokens', () => {
    const token = signJwt({ sub: 'u1', role: 'client_viewer' }, secret, { expiresInSeconds: 900, now });
    expect(verifyJwt(token, `${secret}x`, { now })).toEqual({ ok: false, reason: 'signature' });
    const [h, , s] = token.split('.');
    expect(verifyJwt(`${h}.${b64({ ...claims, role: 'platform_admin' })}.${s}`, secret, { now })).toEqual({ ok: false, reason: 'signature' });
    for (const bad of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${b64({ alg: 'HS256' })}.notjson.x`]) expect(verifyJwt(bad, secret, { now }).ok).toBe(false);
    expect(verifyJwt(forge({ alg: 'HS256' }, { sub: 'u1', iat: now }), secret, { now })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('access tokens carry sub, role and client_id, and are refused when they disagree', () => {
    const token = issueAccessToken({ id: 'u1', role: 'client_admin', clientId: 'acme' }, secret, now);
    expect(verifyAccessToken(token, secret, now)).toEqual({ ok: true, user: { id: 'u1', role: 'client_admin', clientId: 'acme' }, issuedAt: now });
    expect(verifyAccessToken(token, secret, now + 15 * 60 + 31)).toEqual({ ok: false, reason: 'expired' });
    const adminWithClient = forge({ alg: 'HS256' }, { ...claims, typ: 'access', role: 'platform_admin', client_id: 'acme' });
    expect(verifyAccessToken(adminWithClient, secret, now).ok).toBe(false);
    const viewerWithout = forge({ alg: 'HS256' }, { ...claims, typ: 'access', role: 'client_viewer', client_id: null });
    expect(verifyAccessToken(viewerWithout, secret, now).ok).toBe(false);
    const unknownRole = forge({ alg: 'HS256' }, { ...claims, typ: 'access', role: 'root', client_id: null });
    expect(verifyAccessToken(unknownRole, secret, now).ok).toBe(false);
  });
});

describe('scrypt passwords', () => {
  it('encodes parameters and a per-user salt, and verifies in constant time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$30$8$1$aaaa$bbbb')).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$whatever')).toBe(false);
  });
});
