import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { clientKey, createRedis } from './redis.ts';

const redis = TEST_REDIS_URL ? createRedis(TEST_REDIS_URL) : undefined;
afterAll(() => redis?.quit());

const kinds: [string, () => RateLimiter][] = [['memory', () => createMemoryRateLimiter()]];
if (redis) kinds.push(['redis', () => createRedisRateLimiter(redis)]);

describe.each(kinds)('rate limiter (%s)', (_kind, make) => {
  it('allows the limit per minute, then refuses with the seconds left in the window', async () => {
    const limiter = make();
    const client = uniqueId('rl');
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit(client, 'webhooks', 3));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(decisions[3]!.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("one client's hits never spend another client's budget, nor another bucket's", async () => {
    const limiter = make();
    const a = uniqueId('rl-a');
    const b = uniqueId('rl-b');
    for (let i = 0; i < 5; i++) await limiter.hit(a, 'webhooks', 2);
    expect((await limiter.hit(b, 'webhooks', 2)).allowed).toBe(true);
    expect((await limiter.hit(a, 'client-api', 2)).allowed).toBe(true);
  });
});

describe.runIf(redis)('redis rate limiter', () => {
  it('gives a window key an expiry, so keys never pile up', async () => {
    const client = uniqueId('rl-ttl');
    const start = Date.now() - (Date.now() % 60_000);
    await createRedisRateLimiter(redis!, () => start + 10).hit(client, 'webhooks', 5);
    const ttl = await redis!.pttl(clientKey(client, 'rl', 'webhooks', start));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });
});
