import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/processes.ts';
import { ownRedis, type OwnRedis } from '../../test/helpers/redis-server.ts';
import { createMemoryRateLimiter, createRedisRateLimiter } from './rate-limit.ts';
import { clientKey, REDIS_COMMAND_TIMEOUT_MS, createFallbackCache, createRedis, createRedisFallback, createRedisSignal, withLocalFallback } from './redis.ts';

function recordingLogger() {
  const lines: string[] = [];
  return { lines, logger: { warn: (...args: unknown[]) => void lines.push(`warn ${JSON.stringify(args)}`), info: (...args: unknown[]) => void lines.push(`info ${JSON.stringify(args)}`) } };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Redis down: local state within a bounded wait (finding 4)', () => {
  it('with nothing listening, caches and rate limits answer from process memory at once, and the outage is logged once', async () => {
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, { failFast: true });
    const { lines, logger } = recordingLogger();
    const fallback = createRedisFallback(redis, logger);
    try {
      const cache = createFallbackCache(redis, fallback);
      const limiter = withLocalFallback(fallback, createRedisRateLimiter(redis), createMemoryRateLimiter());
      const started = performance.now();
      for (let i = 0; i < 50; i++) {
        await cache.set(`k${i}`, 'v', 60_000);
        expect(await cache.get(`k${i}`)).toBe('v');
        expect((await limiter.hit('c-down', 'webhooks', 1_000)).allowed).toBe(true);
      }
      expect(performance.now() - started).toBeLessThan(500);
      await until(() => lines.length > 0);
      expect(fallback.degraded()).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(lines.filter((line) => line.includes('Redis unavailable'))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  describe('an outage of a Redis of our own', () => {
    let server: OwnRedis;
    beforeAll(async () => {
      server = await ownRedis();
      await server.start();
    });
    afterAll(() => server.stop());

    it('flips to local state when Redis stops and back when it returns; keys changed meanwhile are cleared from Redis; subscribers hear one signal', async () => {
      const redis = createRedis(server.url, { failFast: true });
      const observer = createRedis(server.url);
      observer.on('error', () => undefined);
      const { lines, logger } = recordingLogger();
      const fallback = createRedisFallback(redis, logger);
      const signals: string[] = [];
      const unsubscribe = await createRedisSignal(redis, 'xlnc:_platform:test-signal', 'me', fallback).subscribe(() => signals.push('signal'));
      try {
        await until(() => redis.status === 'ready');
        const cache = createFallbackCache(redis, fallback);
        const key = clientKey('c-flip', 'session');
        await cache.set(key, 'before-outage', 60_000);
        expect(await observer.get(key)).toBe('before-outage');

        await server.stop();
        await until(() => fallback.degraded());
        const started = performance.now();
        await cache.del(key); // e.g. a session revoked during the outage
        expect(await cache.get(key)).toBeUndefined();
        expect(performance.now() - started).toBeLessThan(100);

        await server.start();
        await until(() => !fallback.degraded());
        // Redis kept nothing across the restart here, but a Redis that did must not serve the old entry.
        await until(async () => (await observer.get(key)) === null);
        await cache.set(key, 'after', 60_000);
        expect(await observer.get(key)).toBe('after');
        await until(() => signals.length === 1);
        expect(lines.filter((line) => line.includes('Redis unavailable'))).toHaveLength(1);
        expect(lines.filter((line) => line.includes('Redis available again'))).toHaveLength(1);
      } finally {
        await unsubscribe();
        redis.disconnect();
        observer.disconnect();
      }
    });

    it('a Redis that stops answering (connections open) costs at most the command timeout, three times, then is skipped; an answer ends the outage', async () => {
      const redis = createRedis(server.url, { failFast: true });
      const { lines, logger } = recordingLogger();
      const fallback = createRedisFallback(redis, logger);
      try {
        await until(() => redis.status === 'ready');
        const cache = createFallbackCache(redis, fallback);
        server.pause();
        const waits: number[] = [];
        for (let i = 0; i < 6; i++) {
          const started = performance.now();
          expect(await cache.get(clientKey('c-hung', 'k'))).toBeUndefined();
          waits.push(performance.now() - started);
        }
        server.resume();
        expect(waits.slice(0, 3).every((ms) => ms >= REDIS_COMMAND_TIMEOUT_MS - 20 && ms < REDIS_COMMAND_TIMEOUT_MS + 400)).toBe(true);
        expect(waits.slice(3).every((ms) => ms < 50)).toBe(true);
        expect(fallback.degraded()).toBe(true);
        await until(async () => {
          await cache.get(clientKey('c-hung', 'k'));
          return !fallback.degraded();
        });
        expect(lines.filter((line) => line.includes('Redis unavailable'))).toHaveLength(1);
        expect(lines.filter((line) => line.includes('Redis available again'))).toHaveLength(1);
      } finally {
        server.resume();
        redis.disconnect();
      }
    });

    it('a key set in Redis before the outage and deleted during it is gone from Redis after recovery', async () => {
      const redis = createRedis(server.url, { failFast: true });
      const { logger } = recordingLogger();
      const fallback = createRedisFallback(redis, logger);
      const observer = createRedis(server.url);
      observer.on('error', () => undefined);
      try {
        await until(() => redis.status === 'ready');
        const cache = createFallbackCache(redis, fallback);
        const key = clientKey('c-stale', 'revocation');
        // Simulate a Redis that keeps its data across the outage: cut this process off instead of stopping the server.
        await cache.set(key, 'stale', 60_000);
        const closed = once(redis, 'close');
        redis.disconnect(true);
        await closed;
        expect(fallback.degraded()).toBe(true);
        await cache.del(key);
        expect(await observer.get(key)).toBe('stale');
        await until(() => !fallback.degraded());
        await until(async () => (await observer.get(key)) === null);
      } finally {
        redis.disconnect();
        observer.disconnect();
      }
    });
  });
});
