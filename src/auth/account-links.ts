/**
 * Signed, expiring links for invitations and password resets: HS256 tokens (jwt.ts) under a key
 * derived from JWT_SECRET for this purpose only, so no link can pass as an access token or as the
 * other kind of link. They are single-use by what they carry: an invitation creates its user (a
 * second use finds the email taken); a reset carries a fingerprint of the password hash it
 * replaces (a second use finds the hash changed). Links put the token after `#`, so it never
 * reaches a server log or a Referer header.
 */
import { createHash, createHmac } from 'node:crypto';
import { ROLES, type Role } from './auth.schemas.ts';
import { signJwt, verifyJwt } from './jwt.ts';

export const INVITE_TTL_SECONDS = 7 * 24 * 60 * 60;
export const RESET_TTL_SECONDS = 60 * 60;

export interface InviteClaims {
  email: string;
  role: Role;
  clientId: string | null;
  /** Who invited (user id): the audit log's actor when it is accepted. */
  invitedBy: string;
}

export interface ResetClaims {
  userId: string;
  /** A digest of the password hash this reset replaces. */
  fingerprint: string;
}

export type LinkCheck<T> = { ok: true; claims: T; expiresAt: Date } | { ok: false; reason: 'invalid' | 'expired' };

const keyFor = (jwtSecret: string, purpose: 'invite' | 'reset') => createHmac('sha256', jwtSecret).update(`xlnc account link: ${purpose}`).digest('base64url');

/** A digest of a stored password hash: changes whenever the password does. */
export const passwordFingerprint = (passwordHash: string) => createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22);

export function signInvite(jwtSecret: string, claims: InviteClaims, now?: number): string {
  return signJwt(
    { typ: 'invite', email: claims.email, role: claims.role, client_id: claims.clientId, by: claims.invitedBy },
    keyFor(jwtSecret, 'invite'),
    { expiresInSeconds: INVITE_TTL_SECONDS, ...(now !== undefined ? { now } : {}) },
  );
}

export function verifyInvite(jwtSecret: string, token: string, now?: number): LinkCheck<InviteClaims> {
  const result = verifyJwt(token, keyFor(jwtSecret, 'invite'), { ...(now !== undefined ? { now } : {}), leewaySeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
  const { typ, email, role, client_id: clientId, by, exp } = result.claims;
  const isRole = typeof role === 'string' && (ROLES as readonly string[]).includes(role);
  if (typ !== 'invite' || typeof email !== 'string' || !isRole || typeof by !== 'string') return { ok: false, reason: 'invalid' };
  if (!(clientId === null || typeof clientId === 'string')) return { ok: false, reason: 'invalid' };
  return { ok: true, claims: { email, role: role as Role, clientId, invitedBy: by }, expiresAt: new Date(exp * 1000) };
}

export function signReset(jwtSecret: string, claims: ResetClaims, now?: number): string {
  return signJwt({ typ: 'reset', sub: claims.userId, fp: claims.fingerprint }, keyFor(jwtSecret, 'reset'), {
    expiresInSeconds: RESET_TTL_SECONDS,
    ...(now !== undefined ? { now } : {}),
  });
}

export function verifyReset(jwtSecret: string, token: string, now?: number): LinkCheck<ResetClaims> {
  const result = verifyJwt(token, keyFor(jwtSecret, 'reset'), { ...(now !== undefined ? { now } : {}), leewaySeconds: 0 });
  if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
  const { typ, sub, fp, exp } = result.claims;
  if (typ !== 'reset' || typeof sub !== 'string' || typeof fp !== 'string') return { ok: false, reason: 'invalid' };
  return { ok: true, claims: { userId: sub, fingerprint: fp }, expiresAt: new Date(exp * 1000) };
}
