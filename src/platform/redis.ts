/**
 * Optional Redis: shared caches, rate limits and cross-instance signals. Redis never holds the
 * only copy of work. Every tenant key is built by `clientKey`, so two clients cannot collide.
 */
import { Redis } from 'ioredis';

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

export function createRedis(url: string, options: { lazyConnect?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: options.lazyConnect ?? false,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
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

/**
 * A broadcast to every instance over Redis pub/sub (e.g. "client configs changed, reload").
 * Each instance ignores its own messages.
 */
export interface Signal {
  publish(): Promise<void>;
  subscribe(onSignal: () => void): Promise<() => Promise<void>>;
}

export function createRedisSignal(redis: Redis, channel: string, instanceId: string): Signal {
  return {
    async publish() {
      await redis.publish(channel, instanceId);
    },
    async subscribe(onSignal) {
      const subscriber = redis.duplicate();
      subscriber.on('message', (ch: string, sender: string) => {
        if (ch === channel && sender !== instanceId) onSignal();
      });
      await subscriber.subscribe(channel);
      return async () => {
        await subscriber.unsubscribe(channel).catch(() => undefined);
        subscriber.disconnect();
      };
    },
  };
}
