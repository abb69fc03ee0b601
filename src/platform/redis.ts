/**
 * Optional Redis: shared caches, rate limits and cross-instance signals. Redis never holds the
 * only copy of work. Every tenant key is built by `clientKey`, so two clients cannot collide.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logging.ts';

const CLIENT_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const KEY_PREFIX = 'xlnc';

/** `xlnc:{client_id}:{part}:{part}…`; client ids cannot contain ':' so prefixes never overlap. */
export function clientKey(clientId: string, ...parts: (string | number)[]): string {
  if (!CLIENT_ID.test(clientId)) throw new Error(`Invalid client id for a cache key: ${JSON.stringify(clientId)}`);
  if (parts.length === 0) throw new Error('clientKey needs at least one part after the client id');
  return [KEY_PREFIX, clientId, ...parts].join(':');
}

/** Keys that belong to the platform, not a client: `xlnc:_platform:{part}…`. */
export function platformKey(...parts: (string | number)[]): string {
  return [KEY_PREFIX, '_platform', ...parts].join(':');
}

/**
 * The longest a request waits on Redis (milliseconds) before it uses process-local state instead.
 * Redis answers in well under a millisecond on a healthy network; a command that takes this long
 * is a server that has stopped answering.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 200;

/**
 * `failFast` (the platform's own connection): a command fails at once while Redis is not
 * connected (no offline queue, whose retries held requests up to 9.9 s in an outage) and after
 * REDIS_COMMAND_TIMEOUT_MS when it does not answer, so callers can fall back to local state.
 * Without it (commands, tests) commands wait for the connection.
 */
export function createRedis(url: string, options: { lazyConnect?: boolean; failFast?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: options.lazyConnect ?? false,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    ...(options.failFast
      ? {
          enableOfflineQueue: false,
          commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
          // Reconnect attempts every 50 ms growing to 1 s: Redis is used again within a second of returning.
          retryStrategy: (attempt: number) => Math.min(attempt * 50, 1000),
        }
      : {}),
  });
}

/**
 * Redis as an optional dependency: `run` sends a command to Redis while it is connected and
 * answering, and uses process-local state otherwise, so an outage costs at most
 * REDIS_COMMAND_TIMEOUT_MS per call (nothing at all once the connection is known to be down). The
 * outage is logged once when it starts and once when Redis is back; `onRecovered` listeners then
 * reconcile what changed locally meanwhile.
 */
export interface RedisFallback {
  run<T>(remote: () => Promise<T>, local: () => Promise<T>): Promise<T>;
  /** Whether calls are going to local state now. */
  degraded(): boolean;
  onRecovered(listener: () => void): void;
}

/** Commands failing in a row (a server that accepts connections but does not answer) before Redis is skipped for a while. */
const FAILURES_BEFORE_SKIPPING = 3;
const SKIP_MS = 1_000;

export function createRedisFallback(redis: Redis, logger: Pick<Logger, 'warn' | 'info'>, now: () => number = Date.now): RedisFallback {
  let down = false;
  let failuresInARow = 0;
  let skipUntil = 0;
  const recovered: (() => void)[] = [];
  const markDown = (reason: string) => {
    if (down) return;
    down = true;
    logger.warn({ reason }, 'Redis unavailable: caches, rate limits and signals run on process-local state until it returns');
  };
  const markUp = () => {
    failuresInARow = 0;
    skipUntil = 0;
    if (!down) return;
    down = false;
    logger.info('Redis available again: caches, rate limits and signals are shared again');
    for (const listener of recovered) listener();
  };
  redis.on('error', (error: Error) => markDown(error.message));
  redis.on('close', () => markDown('connection closed'));
  // A new connection, or (after commands timed out on a connection that stayed open) a command that answers.
  redis.on('ready', markUp);
  return {
    async run(remote, local) {
      if (redis.status !== 'ready' || now() < skipUntil) return local();
      try {
        const result = await remote();
        if (down) markUp();
        failuresInARow = 0;
        return result;
      } catch {
        if (++failuresInARow >= FAILURES_BEFORE_SKIPPING) {
          skipUntil = now() + SKIP_MS;
          markDown('commands time out');
          failuresInARow = 0;
        }
        return local();
      }
    },
    degraded: () => down || redis.status !== 'ready' || now() < skipUntil,
    onRecovered(listener) {
      recovered.push(listener);
    },
  };
}

type AsyncMethods<T> = { [K in keyof T]: (...args: never[]) => Promise<unknown> };

/**
 * `remote` while Redis serves, `local` while it does not: the same interface, method by method.
 * For state that may be per process during an outage (rate limits, login throttles).
 */
export function withLocalFallback<T extends AsyncMethods<T>>(fallback: RedisFallback, remote: T, local: T): T {
  const combined: Partial<T> = {};
  for (const name of Object.keys(remote) as (keyof T)[]) {
    const call = (target: T, args: unknown[]) => (target[name] as unknown as (...a: unknown[]) => Promise<unknown>).apply(target, args);
    combined[name] = ((...args: unknown[]) => fallback.run(() => call(remote, args), () => call(local, args))) as unknown as T[keyof T];
  }
  return combined as T;
}

export type { Redis };

/** A cache that is Redis when configured and process memory otherwise. Values are strings. */
export interface KeyValueCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}

export function createMemoryCache(now: () => number = Date.now, maxEntries = 100_000): KeyValueCache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return Promise.resolve(undefined);
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return Promise.resolve(undefined);
      }
      return Promise.resolve(entry.value);
    },
    set(key, value, ttlMs) {
      if (entries.size >= maxEntries && !entries.has(key)) {
        // Oldest insertion first: Map preserves insertion order.
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, { value, expiresAt: now() + ttlMs });
      return Promise.resolve();
    },
    del(key) {
      entries.delete(key);
      return Promise.resolve();
    },
  };
}

export function createRedisCache(redis: Redis): KeyValueCache {
  return {
    async get(key) {
      return (await redis.get(key)) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await redis.set(key, value, 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async del(key) {
      await redis.del(key);
    },
  };
}

/** Keys written locally during an outage, deleted from Redis on recovery; beyond this many, the oldest are forgotten. */
const MAX_DIRTY_KEYS = 100_000;

/**
 * The Redis cache with process memory standing in during an outage. A key set or deleted while
 * Redis was away is deleted from Redis when it returns, so an entry Redis kept from before the
 * outage (a session that has since been revoked) is never read back as current.
 */
export function createFallbackCache(redis: Redis, fallback: RedisFallback): KeyValueCache {
  const remote = createRedisCache(redis);
  let local = createMemoryCache();
  const dirty = new Set<string>();
  const touch = (key: string) => {
    dirty.delete(key);
    dirty.add(key);
    if (dirty.size > MAX_DIRTY_KEYS) {
      const oldest = dirty.values().next().value;
      if (oldest !== undefined) dirty.delete(oldest);
    }
  };
  fallback.onRecovered(() => {
    const keys = [...dirty];
    dirty.clear();
    local = createMemoryCache();
    for (let i = 0; i < keys.length; i += 500) {
      redis.del(...keys.slice(i, i + 500)).catch(() => keys.slice(i, i + 500).forEach(touch));
    }
  });
  return {
    get: (key) => fallback.run(() => remote.get(key), () => local.get(key)),
    set: (key, value, ttlMs) =>
      fallback.run(
        () => remote.set(key, value, ttlMs),
        () => {
          touch(key);
          return local.set(key, value, ttlMs);
        },
      ),
    del: (key) =>
      fallback.run(
        () => remote.del(key),
        () => {
          touch(key);
          return local.del(key);
        },
      ),
  };
}

/**
 * A broadcast to every instance over Redis pub/sub (e.g. "client configs changed, reload").
 * Each instance ignores its own messages.
 */
export interface Signal {
  publish(): Promise<void>;
  subscribe(onSignal: () => void): Promise<() => Promise<void>>;
}

/** How long subscribing waits for Redis at startup before going on without it (it subscribes when Redis comes). */
const SUBSCRIBE_WAIT_MS = 1_000;

/**
 * With a fallback: a publish while Redis is away is dropped, and every subscriber hears one
 * signal when its connection comes back, for whatever it may have missed meanwhile.
 */
export function createRedisSignal(redis: Redis, channel: string, instanceId: string, fallback?: RedisFallback): Signal {
  return {
    async publish() {
      const publish = async () => void (await redis.publish(channel, instanceId));
      await (fallback ? fallback.run(publish, async () => undefined) : publish());
    },
    async subscribe(onSignal) {
      // Its own connection, which waits for Redis (an offline queue) and subscribes again on every reconnect.
      const subscriber = redis.duplicate({ enableOfflineQueue: true, autoResubscribe: false, commandTimeout: undefined });
      // The main connection reports the outage; this one must not crash the process or log it again.
      subscriber.on('error', () => undefined);
      subscriber.on('message', (ch: string, sender: string) => {
        if (ch === channel && sender !== instanceId) onSignal();
      });
      let subscribedBefore = false;
      let firstSubscribed!: () => void;
      const subscribed = new Promise<void>((resolve) => (firstSubscribed = resolve));
      const subscribe = () => {
        subscriber.subscribe(channel).then(
          () => {
            if (subscribedBefore) onSignal();
            subscribedBefore = true;
            firstSubscribed();
          },
          () => undefined,
        );
      };
      subscriber.on('ready', subscribe);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([subscribed, new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
      clearTimeout(timer);
      return async () => {
        subscriber.off('ready', subscribe);
        if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined);
        subscriber.disconnect();
      };
    },
  };
}
