/**
 * Failed-login throttling per email and per IP: after `limit` failures within a minute, further
 * attempts (even with the right password) are refused until the window ends. Counts failures, not
 * attempts, so a user who types the password right is never slowed down by their own logins.
 * Redis (shared by every instance) when configured, process memory otherwise. Keys are platform
 * keys built from a hash, so neither emails nor IPs are stored in Redis.
 */
import { createHash } from 'node:crypto';
import { platformKey, type Redis } from '../platform/redis.ts';

/** Failures per minute before an email or an IP is refused. */
export const LOGIN_FAILURES_PER_EMAIL = 5;
export const LOGIN_FAILURES_PER_IP = 20;
const WINDOW_MS = 60_000;

export interface LoginThrottle {
  /** Seconds until the caller may try again, or 0 when it may try now. */
  retryAfterSeconds(email: string, ip: string): Promise<number>;
  recordFailure(email: string, ip: string): Promise<void>;
  /** A successful login clears the email's failures (the IP's remain). */
  clear(email: string): Promise<void>;
}

const hashed = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32);
const emailKey = (email: string) => platformKey('login-fail', 'email', hashed(email));
const ipKey = (ip: string) => platformKey('login-fail', 'ip', hashed(ip));

export function createLoginThrottle(redis: Redis | undefined, now: () => number = Date.now): LoginThrottle {
  return redis ? redisThrottle(redis) : memoryThrottle(now);
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
      return Math.max(wait(emailKey(email), LOGIN_FAILURES_PER_EMAIL), wait(ipKey(ip), LOGIN_FAILURES_PER_IP));
    },
    async recordFailure(email, ip) {
      increment(emailKey(email));
      increment(ipKey(ip));
    },
    async clear(email) {
      windows.delete(emailKey(email));
    },
  };
}

function redisThrottle(redis: Redis): LoginThrottle {
  const wait = (count: string | null, ttlMs: number, limit: number) =>
    Number(count ?? 0) >= limit ? Math.max(1, Math.ceil(Math.max(ttlMs, 0) / 1000)) : 0;
  return {
    async retryAfterSeconds(email, ip) {
      const e = emailKey(email);
      const i = ipKey(ip);
      const results = await redis.multi().get(e).pttl(e).get(i).pttl(i).exec();
      const value = (index: number) => results?.[index]?.[1];
      return Math.max(
        wait(value(0) as string | null, Number(value(1)), LOGIN_FAILURES_PER_EMAIL),
        wait(value(2) as string | null, Number(value(3)), LOGIN_FAILURES_PER_IP),
      );
    },
    async recordFailure(email, ip) {
      const multi = redis.multi();
      for (const key of [emailKey(email), ipKey(ip)]) {
        // The window starts at the first failure (SET NX with a TTL); INCR keeps that TTL.
        multi.set(key, 0, 'PX', WINDOW_MS, 'NX').incr(key);
      }
      await multi.exec();
    },
    async clear(email) {
      await redis.del(emailKey(email));
    },
  };
}
