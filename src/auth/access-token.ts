/**
 * Access tokens: HS256 JWTs signed with JWT_SECRET, valid 15 minutes, carrying who the caller is
 * (`sub`), their role and their client. Verified without the database; a user whose sessions an
 * admin ended is refused through SessionRevocations (their refresh tokens are revoked too).
 */
import { ROLES, type Role } from './auth.schemas.ts';
import { signJwt, verifyJwt } from './jwt.ts';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** The authenticated caller, as `request.user`. A client user always has a client id; a platform admin never. */
export type AuthUser =
  | { readonly id: string; readonly role: 'platform_admin'; readonly clientId: null }
  | { readonly id: string; readonly role: Exclude<Role, 'platform_admin'>; readonly clientId: string };

export type AccessTokenCheck = { ok: true; user: AuthUser; issuedAt: number } | { ok: false; reason: 'invalid' | 'expired' };

export function issueAccessToken(user: AuthUser, secret: string, now?: number): string {
  // `iat` has whole seconds; `iat_ms` lets a sign-in in the same second as a revocation (right
  // after a password change) count as after it, which whole seconds cannot tell.
  const issuedAtMs = now !== undefined ? now * 1000 : Date.now();
  return signJwt({ sub: user.id, role: user.role, client_id: user.clientId, typ: 'access', iat_ms: issuedAtMs }, secret, {
    expiresInSeconds: ACCESS_TOKEN_TTL_SECONDS,
    now: Math.floor(issuedAtMs / 1000),
  });
}

const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

export function verifyAccessToken(token: string, secret: string, now?: number): AccessTokenCheck {
  const result = verifyJwt(token, secret, now !== undefined ? { now } : {});
  if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
  const { sub, role, client_id: clientId, typ, iat, iat_ms: issuedAtMs } = result.claims;
  // The precise time only when it agrees with the signed whole second (older tokens have none).
  const issuedAt = typeof issuedAtMs === 'number' && Math.floor(issuedAtMs / 1000) === iat ? issuedAtMs / 1000 : iat;
  if (typ !== 'access' || typeof sub !== 'string' || sub === '' || !isRole(role)) return { ok: false, reason: 'invalid' };
  if (role === 'platform_admin') {
    return clientId === null ? { ok: true, user: { id: sub, role, clientId: null }, issuedAt } : { ok: false, reason: 'invalid' };
  }
  return typeof clientId === 'string' && clientId !== '' ? { ok: true, user: { id: sub, role, clientId }, issuedAt } : { ok: false, reason: 'invalid' };
}
