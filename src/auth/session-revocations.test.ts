import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { createMemoryCache, createRedis, createRedisCache, type KeyValueCache } from '../platform/redis.ts';
import { createSessionRevocations, STORED_TTL_MS } from './session-revocations.ts';

const redis = TEST_REDIS_URL ? createRedis(TEST_REDIS_URL) : undefined;
afterAll(() => redis?.quit());

const caches: [string, () => KeyValueCache][] = [['memory', () => createMemoryCache()]];
if (redis) caches.push(['redis', () => createRedisCache(redis)]);

describe.each(caches)('session revocations (%s)', (_kind, makeCache) => {
  it('voids tokens issued up to the revocation, of that user only; later tokens work', async () => {
    const revocations = createSessionRevocations(makeCache(), undefined, () => 1_800_000_000_500);
    const user = uniqueId('u');
    const other = uniqueId('u');
    expect(await revocations.isRevoked(user, 1_800_000_000)).toBe(false);
    await revocations.revoke(user);
    expect(await revocations.isRevoked(user, 1_799_999_000)).toBe(true);
    // Same second as the revocation: void (iat has whole seconds).
    expect(await revocations.isRevoked(user, 1_800_000_000)).toBe(true);
    expect(await revocations.isRevoked(user, 1_800_000_001)).toBe(false);
    expect(await revocations.isRevoked(other, 1_799_999_000)).toBe(false);
  });

  it('two instances sharing the cache see the same revocation', async () => {
    const cache = makeCache();
    const a = createSessionRevocations(cache);
    const b = createSessionRevocations(cache);
    const user = uniqueId('u');
    await a.revoke(user);
    expect(await b.isRevoked(user, Math.floor(Date.now() / 1000) - 60)).toBe(true);
  });
});

describe('session revocations recorded in the database', () => {
  it('void older tokens with a cache that never heard of them (the CLI, or a restart)', async () => {
    const user = uniqueId('u');
    const revocations = createSessionRevocations(createMemoryCache(), async (id) => (id === user ? new Date(1_800_000_000_500) : null));
    expect(await revocations.isRevoked(user, 1_800_000_000)).toBe(true);
    expect(await revocations.isRevoked(user, 1_800_000_001)).toBe(false);
    expect(await revocations.isRevoked(uniqueId('u'), 1_700_000_000)).toBe(false);
  });

  it('a user who no longer exists has no valid tokens', async () => {
    const revocations = createSessionRevocations(createMemoryCache(), async () => 'gone');
    expect(await revocations.isRevoked(uniqueId('u'), Math.floor(Date.now() / 1000))).toBe(true);
  });

  it(`reads the database at most every ${STORED_TTL_MS} ms per user, and again at once after a revoke here`, async () => {
    let clock = 1_800_000_000_000;
    let revokedAt: Date | null = null;
    let reads = 0;
    const user = uniqueId('u');
    const revocations = createSessionRevocations(
      createMemoryCache(),
      async () => {
        reads += 1;
        return revokedAt;
      },
      () => clock,
    );
    const issuedAt = 1_799_999_000;
    expect(await revocations.isRevoked(user, issuedAt)).toBe(false);
    revokedAt = new Date(clock); // recorded elsewhere (the CLI)
    expect(await revocations.isRevoked(user, issuedAt)).toBe(false); // still the remembered read
    expect(reads).toBe(1);
    clock += STORED_TTL_MS;
    expect(await revocations.isRevoked(user, issuedAt)).toBe(true);
    expect(reads).toBe(2);
    revokedAt = null;
    await revocations.revoke(user); // the cache now says so, and the remembered read is dropped
    expect(await revocations.isRevoked(user, issuedAt)).toBe(true);
  });
});
