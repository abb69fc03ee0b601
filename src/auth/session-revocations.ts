/**
 * Ends a user's sessions at once. Access tokens are stateless and live 15 minutes; when an admin
 * disables a user, changes their role or client, or sets their password, their refresh tokens are
 * revoked in the database and this records "tokens issued before now are void" for the life of an
 * access token, so the tokens they already hold stop working on the next request.
 *
 * Kept in the shared cache: Redis when configured (every instance sees it), process memory otherwise.
 */
import { platformKey, type KeyValueCache } from '../platform/redis.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from './access-token.ts';

export interface SessionRevocations {
  /** Voids every access token of `userId` issued up to now. */
  revoke(userId: string): Promise<void>;
  /** Whether an access token of `userId` issued at `issuedAtSeconds` has been voided. */
  isRevoked(userId: string, issuedAtSeconds: number): Promise<boolean>;
}

const keyFor = (userId: string) => platformKey('sessions-revoked', userId);

export function createSessionRevocations(cache: KeyValueCache, now: () => number = Date.now): SessionRevocations {
  return {
    async revoke(userId) {
      // Outlives every token issued before it; a minute more for clock skew between instances.
      await cache.set(keyFor(userId), String(now()), (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000);
    },
    async isRevoked(userId, issuedAtSeconds) {
      const revokedAt = await cache.get(keyFor(userId));
      // `iat` has whole seconds: a token from the second of the revocation counts as before it.
      return revokedAt !== undefined && issuedAtSeconds * 1000 <= Number(revokedAt);
    },
  };
}
