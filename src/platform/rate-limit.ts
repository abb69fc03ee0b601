/**
 * Per-client fixed-window rate limits: Redis (shared by every instance) when configured,
 * process memory otherwise. Keys go through clientKey, so one client never spends another's budget.
 */
import { clientKey, type Redis } from './redis.ts';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  hit(clientId: string, bucket: string, limitPerMinute: number): Promise<RateDecision>;
}

const WINDOW_MS = 60_000;

function decide(count: number, limit: number, windowStart: number, now: number): RateDecision {
  return {
    allowed: count <= limit,
    retryAfterSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)),
    remaining: Math.max(0, limit - count),
  };
}

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async hit(clientId, bucket, limit) {
      const t = now();
      const start = t - (t % WINDOW_MS);
      const key = clientKey(clientId, 'rl', bucket);
      let window = windows.get(key);
      if (!window || window.start !== start) {
        window = { start, count: 0 };
        windows.set(key, window);
        if (windows.size > 50_000) {
          for (const [k, w] of windows) if (w.start !== start) windows.delete(k);
        }
      }
      window.count += 1;
      return decide(window.count, limit, start, t);
    },
  };
}

/** One command per hit: count, and give a new window's key its expiry. */
const COUNT_IN_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

export function createRedisRateLimiter(redis: Redis, now: () => number = Date.now): RateLimiter {
  return {
    async hit(clientId, bucket, limit) {
      const t = now();
      const start = t - (t % WINDOW_MS);
      const key = clientKey(clientId, 'rl', bucket, start);
      const count = Number(await redis.eval(COUNT_IN_WINDOW, 1, key, WINDOW_MS * 2));
      return decide(count, limit, start, t);
    },
  };
}
