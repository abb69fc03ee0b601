import { describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { clientKey, createMemoryCache, createRedis, createRedisCache } from './redis.ts';

describe('clientKey', () => {
  it('prefixes every key with xlnc:{client_id}:', () => {
    expect(clientKey('smart-tax', 'slots', '2026-12-01')).toBe('xlnc:smart-tax:slots:2026-12-01');
  });

  it("two clients' keys never collide, whatever the parts", () => {
    const parts = [['slots'], ['a', 'b'], ['a:b'], ['x-y', 'z'], ['']];
    const ids = ['ab', 'ab-c', 'a-bc', 'abc', 'a0'];
    const seen = new Map<string, string>();
    for (const id of ids) {
      for (const p of parts) {
        const key = clientKey(id, ...p);
        expect(key.startsWith(`xlnc:${id}:`)).toBe(true);
        const owner = seen.get(key);
        expect(owner === undefined || owner === id).toBe(true);
        seen.set(key, id);
      }
    }
  });

  it('refuses ids that could escape their prefix', () => {
    expect(() => clientKey('a:b', 'x')).toThrow();
    expect(() => clientKey('', 'x')).toThrow();
    expect(() => clientKey('Abc', 'x')).toThrow();
  });
});

describe('memory cache', () => {
  it('expires entries by TTL', async () => {
    let now = 1000;
    const cache = createMemoryCache(() => now);
    await cache.set('k', 'v', 50);
    expect(await cache.get('k')).toBe('v');
    now += 51;
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe.runIf(TEST_REDIS_URL)('redis cache', () => {
  it('keeps two clients apart on a real server', async () => {
    const redis = createRedis(TEST_REDIS_URL!);
    try {
      const cache = createRedisCache(redis);
      await cache.set(clientKey('client-one', 'token'), 'one', 5000);
      await cache.set(clientKey('client-two', 'token'), 'two', 5000);
      expect(await cache.get(clientKey('client-one', 'token'))).toBe('one');
      expect(await cache.get(clientKey('client-two', 'token'))).toBe('two');
    } finally {
      redis.disconnect();
    }
  });
});
