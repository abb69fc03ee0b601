import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { createMemoryCache, createRedis, createRedisCache, type KeyValueCache } from '../platform/redis.ts';
import { createSessionRevocations } from './session-revocations.ts';

const redis = TEST_REDIS_URL ? createRedis(TEST_REDIS_URL) : undefined;
afterAll(() => redis?.quit());

const caches: [string, () => KeyValueCache][] = [['memory', () => createMemoryCache()]];
if (redis) caches.push(['redis', () => createRedisCache(redis)]);

describe.each(caches)('session revocations (%s)', (_kind, makeCache) => {
  it('voids tokens issued up to the revocation, of that user only; later tokens work', async () => {
    const revocations = createSessionRevocations(makeCache(), () => 1_800_000_000_500);
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
