/**
 * Per-client rate limits as a smooth budget (GCRA, the token bucket's single-timestamp form): a
 * client may send `limit` requests at once, and its budget refills at `limit` per minute. Unlike a
 * fixed one-minute window, there is no second full burst right after a window boundary, and a
 * refusal's Retry-After is the wait until the next request fits. Redis (shared by every instance)
 * when configured, process memory otherwise. Keys go through clientKey, so one client never spends
 * another's budget.
 */
import { clientKey, type Redis } from './redis.ts';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the next request fits (for Retry-After). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  hit(clientId: string, bucket: string, limitPerMinute: number): Promise<RateDecision>;
}

const WINDOW_MS = 60_000;
/** Floating-point slack when counting the requests left (60,000 / 7 is not exact). */
const EPSILON = 1e-9;

/**
 * `tat`: the time at which the client's budget is whole again ("theoretical arrival time"). A
 * request moves it one interval on; it may run at most one minute ahead of now.
 */
function admit(tat: number, now: number, limit: number): { decision: RateDecision; nextTat?: number } {
  const interval = WINDOW_MS / limit;
  const nextTat = Math.max(tat, now) + interval;
  const ahead = nextTat - now;
  if (ahead > WINDOW_MS) {
    return { decision: { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((ahead - WINDOW_MS) / 1000)), remaining: 0 } };
  }
  return { decision: { allowed: true, retryAfterSeconds: 0, remaining: Math.floor((WINDOW_MS - ahead) / interval + EPSILON) }, nextTat };
}

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const budgets = new Map<string, number>();
  return {
    async hit(clientId, bucket, limit) {
      const t = now();
      const key = clientKey(clientId, 'rl', bucket);
      const { decision, nextTat } = admit(budgets.get(key) ?? t, t, limit);
      if (nextTat !== undefined) {
        budgets.set(key, nextTat);
        if (budgets.size > 50_000) {
          for (const [k, tat] of budgets) if (tat <= t) budgets.delete(k);
        }
      }
      return decision;
    },
  };
}

/** admit() in one Redis command; the key expires when the budget is whole again. */
const ADMIT = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local ahead = next_tat - now
if ahead > window then return {0, math.ceil(ahead - window)} end
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', math.ceil(ahead))
return {1, math.floor((window - ahead) / interval + ${EPSILON})}`;

export function createRedisRateLimiter(redis: Redis, now: () => number = Date.now): RateLimiter {
  return {
    async hit(clientId, bucket, limit) {
      const [allowed, value] = (await redis.eval(ADMIT, 1, clientKey(clientId, 'rl', bucket), now(), limit, WINDOW_MS)) as [number, number];
      return allowed === 1
        ? { allowed: true, retryAfterSeconds: 0, remaining: value }
        : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(value / 1000)), remaining: 0 };
    },
  };
}
