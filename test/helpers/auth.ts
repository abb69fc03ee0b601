/**
 * Users and tokens for route tests: `loginAs` creates a user in the test database and returns a
 * real access token for it; `bearer` builds the header.
 */
import { randomBytes } from 'node:crypto';
import { issueAccessToken, type AuthUser } from '../../src/auth/access-token.ts';
import type { Role } from '../../src/auth/auth.schemas.ts';
import { createUser } from '../../src/auth/users.service.ts';
import type { TestApp } from './test-app.ts';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  clientId: string | null;
  accessToken: string;
  auth: AuthUser;
}

export function authUser(id: string, role: Role, clientId: string | null): AuthUser {
  if (role === 'platform_admin') return { id, role, clientId: null };
  if (clientId === null) throw new Error(`${role} needs a client id`);
  return { id, role, clientId };
}

/** Creates a user (any client id is accepted) and signs an access token for it. */
export async function loginAs(t: TestApp, role: Role, clientId: string | null = null): Promise<TestUser> {
  const email = `u-${randomBytes(5).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const user = await t.deps.tenancy.withPlatform((tx) =>
    createUser(tx, { email, password, role, clientId: role === 'platform_admin' ? null : clientId }, () => true),
  );
  const auth = authUser(user.id, role, user.client_id);
  return { id: user.id, email, password, role, clientId: user.client_id, accessToken: issueAccessToken(auth, t.deps.config.jwtSecret), auth };
}

/** An access token for `user` that expired `secondsAgo` ago (beyond the verifier's leeway). */
export function expiredTokenFor(t: TestApp, user: AuthUser, secondsAgo = 3600): string {
  return issueAccessToken(user, t.deps.config.jwtSecret, Math.floor(Date.now() / 1000) - 15 * 60 - secondsAgo);
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
