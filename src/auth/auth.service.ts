/**
 * Login, refresh-token rotation with reuse detection, logout. Wrong email, wrong password and a
 * disabled account give one answer in about the same time (scrypt always runs). Refresh tokens
 * are opaque, stored only as HMAC-SHA256(JWT_REFRESH_SECRET, token); each use rotates the token
 * within its family, and presenting a rotated token again revokes the family (a stolen copy and
 * the real one cannot both keep working).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, type AuthUser } from './access-token.ts';
import {
  countUsers,
  findRefreshTokenForUpdate,
  findUserByEmail,
  findUserById,
  insertRefreshToken,
  markRotated,
  revokeFamily,
  updateUser,
  type UserRow,
} from './auth.repo.ts';
import type { Role, UserView } from './auth.schemas.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { dummyPasswordHash, verifyPassword } from './password.ts';
import { toUserView } from './users.service.ts';

export const REFRESH_TOKEN_TTL_MS = 14 * 24 * 60 * 60 * 1000;
const REFRESH_PREFIX = 'xrt_';

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user: UserView;
}

export interface AuthService {
  login(input: { email: string; password: string; ip: string }): Promise<TokenPair>;
  refresh(refreshToken: string): Promise<TokenPair>;
  /** Revokes the token's family; unknown tokens are ignored (logout always succeeds). */
  logout(refreshToken: string): Promise<void>;
  me(user: AuthUser): Promise<UserView>;
  countUsers(): Promise<number>;
  /** A new session for a user who proved who they are another way (first-run setup, an accepted invite). */
  sessionFor(row: UserRow): Promise<TokenPair>;
}

export interface AuthServiceOptions {
  tenancy: Tenancy;
  jwtSecret: string;
  jwtRefreshSecret: string;
  throttle: LoginThrottle;
}

export function authUserOf(row: UserRow): AuthUser {
  const role = row.role as Role;
  if (role === 'platform_admin') return { id: row.id, role, clientId: null };
  if (row.clientId === null) throw new Error(`user ${row.id} has role ${role} without a client`);
  return { id: row.id, role, clientId: row.clientId };
}

const invalidCredentials = () => new AppError('invalid_credentials', 'Invalid email or password');
const invalidRefresh = () => new AppError('unauthorized', 'Invalid or expired refresh token');

export function createAuthService(options: AuthServiceOptions): AuthService {
  const { tenancy, jwtSecret, jwtRefreshSecret, throttle } = options;
  const hashToken = (token: string) => createHmac('sha256', jwtRefreshSecret).update(token).digest('hex');

  const pairFor = (row: UserRow, refreshToken: string): TokenPair => ({
    access_token: issueAccessToken(authUserOf(row), jwtSecret),
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: refreshToken,
    user: toUserView(row),
  });

  const newRefreshToken = () => `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;

  return {
    async login({ email, password, ip }) {
      const normalized = email.trim().toLowerCase();
      const wait = await throttle.retryAfterSeconds(normalized, ip);
      if (wait > 0) {
        throw new AppError('rate_limited', 'Too many failed logins; try again later', { 'retry-after': String(wait) });
      }
      const user = await tenancy.withPlatform((tx) => findUserByEmail(tx, normalized));
      // Always one scrypt: an unknown email costs what a wrong password costs.
      const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (user === undefined || !matches || user.disabled) {
        await throttle.recordFailure(normalized, ip);
        throw invalidCredentials();
      }
      await throttle.clear(normalized, ip);
      const token = newRefreshToken();
      const updated = await tenancy.withPlatform(async (tx) => {
        await insertRefreshToken(tx, {
          userId: user.id,
          familyId: randomUUID(),
          tokenHash: hashToken(token),
          expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
        });
        return updateUser(tx, user.id, { lastLoginAt: new Date() });
      });
      return pairFor(updated ?? user, token);
    },

    async refresh(refreshToken) {
      const next = newRefreshToken();
      const outcome = await tenancy.withPlatform(async (tx) => {
        const row = await findRefreshTokenForUpdate(tx, hashToken(refreshToken));
        if (row === undefined || row.revokedAt !== null) return { kind: 'invalid' } as const;
        if (row.rotatedAt !== null) {
          // Reuse of a rotated token: someone holds a copy. End every session of this family.
          await revokeFamily(tx, row.familyId);
          return { kind: 'reused' } as const;
        }
        if (row.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' } as const;
        const user = await findUserById(tx, row.userId);
        if (user === undefined || user.disabled) {
          await revokeFamily(tx, row.familyId);
          return { kind: 'invalid' } as const;
        }
        const created = await insertRefreshToken(tx, {
          userId: user.id,
          familyId: row.familyId,
          tokenHash: hashToken(next),
          expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
        });
        await markRotated(tx, row.id, created.id);
        return { kind: 'ok', user } as const;
      });
      switch (outcome.kind) {
        case 'ok':
          return pairFor(outcome.user, next);
        case 'reused':
          throw new AppError('token_reused', 'Refresh token was already used; every session from that login has been ended');
        case 'invalid':
          throw invalidRefresh();
      }
    },

    async logout(refreshToken) {
      await tenancy.withPlatform(async (tx) => {
        const row = await findRefreshTokenForUpdate(tx, hashToken(refreshToken));
        if (row !== undefined) await revokeFamily(tx, row.familyId);
      });
    },

    async me(user) {
      const row = await tenancy.withPlatform((tx) => findUserById(tx, user.id));
      if (row === undefined || row.disabled) throw new AppError('unauthorized', 'Account no longer active');
      return toUserView(row);
    },

    countUsers() {
      return tenancy.withPlatform((tx) => countUsers(tx));
    },

    async sessionFor(row) {
      const token = newRefreshToken();
      await tenancy.withPlatform((tx) =>
        insertRefreshToken(tx, { userId: row.id, familyId: randomUUID(), tokenHash: hashToken(token), expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS) }),
      );
      return pairFor(row, token);
    },
  };
}
