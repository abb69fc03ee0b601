/**
 * A client's bookable slots over the booking horizon, computed from its rules and busy time and
 * cached for a minute (Redis when configured, so every instance shares one computation). The
 * rules and the provider kind are in the key: a config change never serves slots computed under
 * the old hours. Computations for one key run one at a time.
 */
import { createHash } from 'node:crypto';
import { clientKey, type KeyValueCache } from '../../platform/redis.ts';
import { singleFlight } from './single-flight.ts';
import { computeSlots, horizonEnd, toSlot, type Slot, type SlotRules, type TimeRange } from './slots.ts';
import type { BusyInterval, CalendarKind } from './calendar.ts';

const SLOT_CACHE_TTL_MS = 60_000;

export interface SlotCache {
  /** Every slot of the horizon; `fresh` recomputes instead of reading the cache. */
  horizon(fresh: boolean): Promise<TimeRange[]>;
  /** Slots still bookable now (the cached list may be up to a minute old). */
  open(): Promise<TimeRange[]>;
  invalidate(): Promise<void>;
}

export function createSlotCache(options: {
  cache: KeyValueCache;
  clientId: string;
  providerKind: CalendarKind;
  rules: SlotRules;
  now: () => Date;
  busyIn: (range: TimeRange) => Promise<BusyInterval[]>;
}): SlotCache {
  const { cache, rules, now } = options;
  const rulesHash = createHash('sha256').update(JSON.stringify([options.providerKind, rules])).digest('hex').slice(0, 16);
  const slotsKey = clientKey(options.clientId, 'calendar', 'slots', rulesHash);
  type CachedSlots = { slots: Slot[] };

  async function horizon(fresh: boolean): Promise<TimeRange[]> {
    if (!fresh) {
      const cached = await cache.get(slotsKey);
      if (cached) return (JSON.parse(cached) as CachedSlots).slots.map((s) => ({ start: new Date(s.start), end: new Date(s.end) }));
    }
    return singleFlight(`slots:${slotsKey}`, async () => {
      const at = now();
      const range = { start: at, end: horizonEnd(rules, at) };
      const busy = await options.busyIn(range);
      const slots = computeSlots(rules, { now: at, busy });
      const payload: CachedSlots = { slots: slots.map((s) => toSlot(s, rules.timezone)) };
      await cache.set(slotsKey, JSON.stringify(payload), SLOT_CACHE_TTL_MS);
      return slots;
    });
  }

  return {
    horizon,
    async open() {
      const earliest = now().getTime() + rules.minNoticeMinutes * 60_000;
      return (await horizon(false)).filter((s) => s.start.getTime() >= earliest);
    },
    async invalidate() {
      await cache.del(slotsKey);
    },
  };
}
