/**
 * Ends a user's sessions at once. Access tokens are stateless and live 15 minutes; when a user's
 * password, role or client changes or they are disabled (admin API or `xlnc users`), their refresh
 * tokens are revoked and `users.sessions_revoked_at` is set in the same transaction, so the access
 * tokens they already hold stop working too.
 *
 * Two sources, checked in order: the shared cache (Redis when configured, process memory
 * otherwise), which the admin API writes so every instance sees a revocation on the next request;
 * and the database, read at most every STORED_TTL_MS per user and process, which also carries
 * revocations made by the CLI or before a restart.
 */
import { platformKey, type KeyValueCache } from '../platform/redis.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from './access-token.ts';

export interface SessionRevocations {
  /** Voids every access token of `userId` issued up to now (after the database has recorded it). */
  revoke(userId: string): Promise<void>;
  /** Whether an access token of `userId` issued at `issuedAtSeconds` (fractional when known) has been voided. */
  isRevoked(userId: string, issuedAtSeconds: number): Promise<boolean>;
}

/** The stored revocation time of a user (null: never), or `gone` when the user no longer exists. */
export type StoredRevocation = (userId: string) => Promise<Date | null | 'gone'>;

/** How long a process trusts what it read from the database about one user. */
export const STORED_TTL_MS = 5_000;
const MAX_REMEMBERED = 10_000;

const keyFor = (userId: string) => platformKey('sessions-revoked', userId);

export function createSessionRevocations(
  cache: KeyValueCache,
  stored?: StoredRevocation,
  now: () => number = Date.now,
): SessionRevocations {
  const remembered = new Map<string, { revokedAtMs: number | null; gone: boolean; readAt: number }>();

  async function storedRevocation(read: StoredRevocation, userId: string) {
    const known = remembered.get(userId);
    if (known !== undefined && now() - known.readAt < STORED_TTL_MS) return known;
    const value = await read(userId);
    const entry = { revokedAtMs: value instanceof Date ? value.getTime() : null, gone: value === 'gone', readAt: now() };
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(userId, entry);
    return entry;
  }

  // Issued at or before the revocation (milliseconds where the token has them, else its whole
  // second, which then counts as before it).
  const voidedBy = (revokedAtMs: number | null, issuedAtSeconds: number) => revokedAtMs !== null && issuedAtSeconds * 1000 <= revokedAtMs;

  return {
    async revoke(userId) {
      remembered.delete(userId);
      // Outlives every token issued before it; a minute more for clock skew between instances.
      await cache.set(keyFor(userId), String(now()), (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000);
    },
    async isRevoked(userId, issuedAtSeconds) {
      const cached = await cache.get(keyFor(userId));
      if (cached !== undefined && voidedBy(Number(cached), issuedAtSeconds)) return true;
      if (stored === undefined) return false;
      const { revokedAtMs, gone } = await storedRevocation(stored, userId);
      return gone || voidedBy(revokedAtMs, issuedAtSeconds);
    },
  };
}
