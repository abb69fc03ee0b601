/**
 * Per-client counts of things no table records, because recording them would let an attacker
 * write rows at will (a forged webhook's rejected signature) or slow the hot path (a call refused
 * at the concurrency cap): kept in the shared cache (Redis when configured) in 5-minute buckets
 * for the health detectors (src/alerts/). A signal, never work: losing it (Redis restarted) only
 * delays an alert.
 */
import { clientKey, type KeyValueCache } from './redis.ts';

export type HealthSignal = 'signature_failure' | 'capacity_hit';

/** Bucket width, and how long a bucket is kept (the longest window a detector asks about). */
export const HEALTH_BUCKET_MS = 5 * 60_000;
const KEEP_MS = 2 * 60 * 60_000;

export interface HealthCounters {
  hit(clientId: string, signal: HealthSignal, at?: Date): Promise<void>;
  /** Hits in the buckets covering the last `windowMs` up to `at` (bucket-aligned, so up to one bucket more). */
  count(clientId: string, signal: HealthSignal, windowMs: number, at?: Date): Promise<number>;
}

function bucketKey(clientId: string, signal: HealthSignal, bucket: number): string {
  return clientKey(clientId, 'health', signal, String(bucket));
}

export function createHealthCounters(cache: KeyValueCache): HealthCounters {
  return {
    async hit(clientId, signal, at = new Date()) {
      const key = bucketKey(clientId, signal, Math.floor(at.getTime() / HEALTH_BUCKET_MS));
      // Read-then-write: two instances hitting at once may count one; an alert threshold tolerates it.
      const current = Number((await cache.get(key)) ?? '0');
      await cache.set(key, String(current + 1), KEEP_MS);
    },
    async count(clientId, signal, windowMs, at = new Date()) {
      const last = Math.floor(at.getTime() / HEALTH_BUCKET_MS);
      const buckets = Math.max(1, Math.ceil(windowMs / HEALTH_BUCKET_MS));
      let total = 0;
      for (let bucket = last - buckets + 1; bucket <= last; bucket += 1) {
        total += Number((await cache.get(bucketKey(clientId, signal, bucket))) ?? '0');
      }
      return total;
    },
  };
}
