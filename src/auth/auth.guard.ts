/**
 * Route guards for every authenticated plugin:
 *
 *   app.addHook('onRequest', authenticate);                 // 401 unless a valid Bearer token
 *   app.addHook('onRequest', requireRole('client_admin', 'platform_admin'));   // 403 otherwise
 *   const user = requireClientAccess(request, clientId);    // 404 for another client's resource
 *
 * `onRequest` is preferred (nothing is parsed for an unauthenticated caller); `preHandler` works too.
 * The JWT secret is given once by `registerAuth(app, secret)` in app.ts, on the root instance.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.ts';
import { verifyAccessToken, type AuthUser } from './access-token.ts';
import type { Role } from './auth.schemas.ts';
import type { SessionRevocations } from './session-revocations.ts';

export type { AuthUser } from './access-token.ts';
export type { Role } from './auth.schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by `authenticate`. */
    user?: AuthUser;
  }
  interface FastifyInstance {
    /** Verifies access tokens; decorated on the root instance by `registerAuth`. */
    accessTokens: { verify(token: string): ReturnType<typeof verifyAccessToken>; revocations: SessionRevocations };
  }
}

/** Makes `authenticate` work in every plugin of `app`. Call once on the root instance. */
export function registerAuth(app: FastifyInstance, jwtSecret: string, revocations: SessionRevocations): void {
  app.decorate('accessTokens', { verify: (token: string) => verifyAccessToken(token, jwtSecret), revocations });
  app.decorateRequest('user', undefined);
}

function unauthorized(message: string, description: string): AppError {
  // RFC 6750: tells a client whether refreshing the token can help.
  return new AppError('unauthorized', message, { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` });
}

/** Hook: `Authorization: Bearer <access token>` → `request.user`; 401 `unauthorized` when missing, invalid, expired or revoked. */
export async function authenticate(request: FastifyRequest): Promise<void> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim()) : null;
  if (!match?.[1]) throw new AppError('unauthorized', 'Missing bearer token', { 'www-authenticate': 'Bearer' });
  const check = request.server.accessTokens.verify(match[1]);
  if (!check.ok) {
    throw check.reason === 'expired' ? unauthorized('Access token expired', 'expired') : unauthorized('Invalid access token', 'invalid');
  }
  if (await request.server.accessTokens.revocations.isRevoked(check.user.id, check.issuedAt)) {
    throw unauthorized('Session ended; sign in again', 'revoked');
  }
  request.user = check.user;
}

/** The caller set by `authenticate`; 401 when the route forgot to authenticate. */
export function currentUser(request: FastifyRequest): AuthUser {
  if (request.user === undefined) throw new AppError('unauthorized', 'Missing bearer token', { 'www-authenticate': 'Bearer' });
  return request.user;
}

/** Hook: 403 `forbidden` unless the caller has one of `roles`. Runs after `authenticate`. */
export function requireRole(...roles: Role[]): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const user = currentUser(request);
    if (!roles.includes(user.role)) throw new AppError('forbidden', 'Your role does not allow this');
  };
}

/**
 * The caller may act on `clientId`: platform admins on any client, client users on their own.
 * Another client's resource is 404 `not_found`, never 403, so its existence does not leak.
 */
export function requireClientAccess(request: FastifyRequest, clientId: string): AuthUser {
  const user = currentUser(request);
  if (user.role !== 'platform_admin' && user.clientId !== clientId) throw new AppError('not_found', 'Not found');
  return user;
}
