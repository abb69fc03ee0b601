/**
 * Failed-login throttling, three counters a minute each:
 * - per (email, IP): 5 failures, then that address may not try that account until the window ends
 *   (even with the right password). This is the one a password guesser meets.
 * - per email, from anywhere: 50, for guessing spread over many addresses. Set high on purpose:
 *   a low per-email limit lets anyone lock a user out by failing logins in their name.
 * - per IP, whatever the email: 20, for one address trying many accounts.
 * Counts failures, not attempts, so a user who types the password right is never slowed down by
 * their own logins. Redis (shared by every instance) when configured, process memory otherwise.
 * Keys are platform keys built from a hash, so neither emails nor IPs are stored in Redis.
 */
import { createHash } from 'node:crypto';
import { platformKey, withLocalFallback, type Redis, type RedisFallback } from '../platform/redis.ts';

/** Failures per minute before one address is refused one account. */
export const LOGIN_FAILURES_PER_EMAIL_AND_IP = 5;
/** Failures per minute, from any address, before an account is refused everywhere. */
export const LOGIN_FAILURES_PER_EMAIL = 50;
/** Failures per minute before an address is refused every account. */
export const LOGIN_FAILURES_PER_IP = 20;
const WINDOW_MS = 60_000;

export interface LoginThrottle {
  /** Seconds until the caller may try again, or 0 when it may try now. */
  retryAfterSeconds(email: string, ip: string): Promise<number>;
  recordFailure(email: string, ip: string): Promise<void>;
  /** A successful login clears that address's failures for the account (the other counters remain). */
  clear(email: string, ip: string): Promise<void>;
}

const hashed = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32);
const emailKey = (email: string) => platformKey('login-fail', 'email', hashed(email));
const ipKey = (ip: string) => platformKey('login-fail', 'ip', hashed(ip));
const pairKey = (email: string, ip: string) => platformKey('login-fail', 'pair', hashed(`${email}\u0000${ip}`));

/** The counters one login touches, with their limits. */
const countersFor = (email: string, ip: string): [key: string, limit: number][] => [
  [pairKey(email, ip), LOGIN_FAILURES_PER_EMAIL_AND_IP],
  [emailKey(email), LOGIN_FAILURES_PER_EMAIL],
  [ipKey(ip), LOGIN_FAILURES_PER_IP],
];

/** With `fallback`, counts in process memory while Redis is down (each instance then counts on its own). */
export function createLoginThrottle(redis: Redis | undefined, now: () => number = Date.now, fallback?: RedisFallback): LoginThrottle {
  if (!redis) return memoryThrottle(now);
  return fallback ? withLocalFallback(fallback, redisThrottle(redis), memoryThrottle(now)) : redisThrottle(redis);
}

function memoryThrottle(now: () => number): LoginThrottle {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string) => {
    const window = windows.get(key);
    if (window === undefined) return undefined;
    if (window.resetAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  const increment = (key: string) => {
    const window = live(key);
    if (window) window.count += 1;
    else windows.set(key, { count: 1, resetAt: now() + WINDOW_MS });
    if (windows.size > 50_000) for (const k of windows.keys()) live(k);
  };
  const wait = (key: string, limit: number) => {
    const window = live(key);
    return window !== undefined && window.count >= limit ? Math.max(1, Math.ceil((window.resetAt - now()) / 1000)) : 0;
  };
  return {
    async retryAfterSeconds(email, ip) {
      return Math.max(...countersFor(email, ip).map(([key, limit]) => wait(key, limit)));
    },
    async recordFailure(email, ip) {
      for (const [key] of countersFor(email, ip)) increment(key);
    },
    async clear(email, ip) {
      windows.delete(pairKey(email, ip));
    },
  };
}

function redisThrottle(redis: Redis): LoginThrottle {
  const wait = (count: string | null, ttlMs: number, limit: number) =>
    Number(count ?? 0) >= limit ? Math.max(1, Math.ceil(Math.max(ttlMs, 0) / 1000)) : 0;
  return {
    async retryAfterSeconds(email, ip) {
      const counters = countersFor(email, ip);
      const multi = redis.multi();
      for (const [key] of counters) multi.get(key).pttl(key);
      const results = await multi.exec();
      const value = (index: number) => results?.[index]?.[1];
      return Math.max(...counters.map(([, limit], n) => wait(value(2 * n) as string | null, Number(value(2 * n + 1)), limit)));
    },
    async recordFailure(email, ip) {
      const multi = redis.multi();
      for (const [key] of countersFor(email, ip)) {
        // The window starts at the first failure (SET NX with a TTL); INCR keeps that TTL.
        multi.set(key, 0, 'PX', WINDOW_MS, 'NX').incr(key);
      }
      await multi.exec();
    },
    async clear(email, ip) {
      await redis.del(pairKey(email, ip));
    },
  };
}
