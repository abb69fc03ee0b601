import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { clientKey, createRedis } from './redis.ts';

const redis = TEST_REDIS_URL ? createRedis(TEST_REDIS_URL) : undefined;
afterAll(() => redis?.quit());

const kinds: [string, (now?: () => number) => RateLimiter][] = [['memory', (now) => createMemoryRateLimiter(now)]];
if (redis) kinds.push(['redis', (now) => createRedisRateLimiter(redis, now)]);

describe.each(kinds)('rate limiter (%s)', (_kind, make) => {
  it('allows the limit at once, then refuses with the wait until the next request fits', async () => {
    const limiter = make();
    const client = uniqueId('rl');
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit(client, 'webhooks', 3));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    // 3 a minute refill one every 20 s.
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(19);
    expect(decisions[3]!.retryAfterSeconds).toBeLessThanOrEqual(20);
  });

  it('refills steadily: no second full burst just after a minute boundary', async () => {
    let now = 1_800_000_059_000; // one second before a whole minute
    const limiter = make(() => now);
    const client = uniqueId('rl-refill');
    const allowedAt = async (times: number) => {
      let allowed = 0;
      for (let i = 0; i < times; i++) if ((await limiter.hit(client, 'webhooks', 4)).allowed) allowed += 1;
      return allowed;
    };
    expect(await allowedAt(6)).toBe(4);
    now += 2_000; // past the boundary: a fixed window would allow 4 more
    expect(await allowedAt(4)).toBe(0);
    now += 13_000; // 15 s after the burst: one request's worth (4 a minute)
    expect(await allowedAt(3)).toBe(1);
    now += 60_000; // a quiet minute: the whole budget again, not more
    expect(await allowedAt(6)).toBe(4);
    const refused = await limiter.hit(client, 'webhooks', 4);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 15, remaining: 0 });
  });

  it('counts odd limits exactly (60,000 ms / 7 is not a whole number)', async () => {
    const now = 1_800_000_000_000;
    const limiter = make(() => now);
    const client = uniqueId('rl-odd');
    const remaining = [];
    for (let i = 0; i < 8; i++) remaining.push((await limiter.hit(client, 'webhooks', 7)).remaining);
    expect(remaining).toEqual([6, 5, 4, 3, 2, 1, 0, 0]);
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
  it('gives a key an expiry (when the budget is whole again), so keys never pile up', async () => {
    const client = uniqueId('rl-ttl');
    const limiter = createRedisRateLimiter(redis!);
    await limiter.hit(client, 'webhooks', 5);
    await limiter.hit(client, 'webhooks', 5);
    const ttl = await redis!.pttl(clientKey(client, 'rl', 'webhooks'));
    // Two requests at 5 a minute: whole again in 2 × 12 s.
    expect(ttl).toBeGreaterThan(20_000);
    expect(ttl).toBeLessThanOrEqual(24_000);
  });
});
