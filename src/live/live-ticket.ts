/**
 * Tickets for the live stream. A browser's EventSource cannot send an Authorization header, so the
 * dashboard trades its access token (POST …/live/ticket) for a ticket that goes in the stream's
 * URL: signed with the JWT secret, valid 60 seconds, for one client only, and of its own type, so
 * it can never be used as an access token (nor an access token as a ticket). It opens a stream; the
 * stream then lives on without it, and a reconnect asks for a new one.
 */
import type { AuthUser } from '../auth/access-token.ts';
import { signJwt, verifyJwt } from '../auth/jwt.ts';

export const LIVE_TICKET_TTL_SECONDS = 60;

export interface LiveTicket {
  /** The user who asked for it. */
  userId: string;
  /** The client whose live calls it opens. */
  clientId: string;
  /** Seconds since the epoch: checked against the user's ended sessions, like an access token's. */
  issuedAt: number;
}

export function issueLiveTicket(user: AuthUser, clientId: string, secret: string, now?: number): string {
  return signJwt({ sub: user.id, role: user.role, live_client_id: clientId, typ: 'live' }, secret, {
    expiresInSeconds: LIVE_TICKET_TTL_SECONDS,
    ...(now !== undefined ? { now } : {}),
  });
}

export type LiveTicketCheck = { ok: true; ticket: LiveTicket } | { ok: false; reason: 'invalid' | 'expired' | 'other_client' };

/** Verifies the ticket and that it was issued for `clientId`. */
export function verifyLiveTicket(token: string, clientId: string, secret: string, now?: number): LiveTicketCheck {
  const result = verifyJwt(token, secret, now !== undefined ? { now } : {});
  if (!result.ok) return { ok: false, reason: result.reason === 'expired' ? 'expired' : 'invalid' };
  const { sub, typ, live_client_id: ticketClient, iat } = result.claims;
  if (typ !== 'live' || typeof sub !== 'string' || sub === '' || typeof ticketClient !== 'string') return { ok: false, reason: 'invalid' };
  if (ticketClient !== clientId) return { ok: false, reason: 'other_client' };
  return { ok: true, ticket: { userId: sub, clientId, issuedAt: iat } };
}
