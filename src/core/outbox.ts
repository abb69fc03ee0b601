/**
 * The transactional outbox: `emit` writes a domain event into the caller's tenant transaction and,
 * in the same transaction, one job per subscriber of its type (the router's map, given once at
 * startup by `route`). A feed lets in-process listeners (the dashboard's live view over SSE) hear a
 * client's new events: it polls that client's outbox by `seq` while someone listens.
 */
import { randomUUID } from 'node:crypto';
import type { Tx } from '../platform/db/database.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import type { JobDefinition, JobQueue } from '../platform/queue.ts';
import { DOMAIN_EVENTS, type DomainEvent, type DomainEventEmitter, type DomainEventType } from './domain-events.ts';
import { findDomainEvent, insertDomainEvent, listDomainEventsAfter, type DomainEventRow } from './outbox.repo.ts';

/** A subscriber as the outbox routes to it (see subscribers.ts). */
export interface SubscriberRoute {
  readonly events: readonly DomainEventType[];
  readonly job: JobDefinition<{ client_id: string; event_id: string; seq: number; type: string }>;
}

export interface Outbox extends DomainEventEmitter {
  /** The subscribers of each event type; set by the catalogue registration before any work runs. */
  route(subscribers: readonly SubscriberRoute[]): void;
}

export function toDomainEvent(row: DomainEventRow): DomainEvent {
  return {
    id: row.id,
    type: row.type as DomainEventType,
    version: row.version,
    client_id: row.clientId,
    seq: row.seq,
    occurred_at: row.occurredAt.toISOString(),
    payload: row.payload as DomainEvent['payload'],
  };
}

/** One stored event of the client, inside the caller's tenant transaction. */
export async function loadDomainEvent(tx: Tx, clientId: string, id: string): Promise<DomainEvent | undefined> {
  const row = await findDomainEvent(tx, clientId, id);
  return row === undefined ? undefined : toDomainEvent(row);
}

export function createOutbox(queue: Pick<JobQueue, 'enqueue'>): Outbox {
  // Undefined until the catalogue is registered: emitting before that would store events that no
  // subscriber ever hears, so it fails instead.
  let routes: Map<DomainEventType, SubscriberRoute[]> | undefined;
  return {
    route(subscribers) {
      const next = new Map<DomainEventType, SubscriberRoute[]>();
      for (const subscriber of subscribers) {
        for (const type of subscriber.events) next.set(type, [...(next.get(type) ?? []), subscriber]);
      }
      routes = next;
    },

    async emit(tx, clientId, type, payload, options) {
      const spec = DOMAIN_EVENTS[type];
      // A payload outside the catalogue is a bug in the emitter: fail the cause's transaction.
      const parsed = spec.payload.parse(payload) as DomainEvent<typeof type>['payload'];
      const id = randomUUID();
      const occurredAt = options.occurredAt ?? new Date();
      if (!routes) throw new Error('domain events cannot be emitted before the job catalogue is registered (createDeps routes its subscribers)');
      const seq = await insertDomainEvent(tx, clientId, { id, type, version: spec.version, idempotencyKey: options.key, occurredAt, payload: parsed });
      if (seq === undefined) return undefined;
      for (const subscriber of routes.get(type) ?? []) {
        await queue.enqueue(subscriber.job, { client_id: clientId, event_id: id, seq, type }, { tx, key: `${clientId}:${id}` });
      }
      return { id, type, version: spec.version, client_id: clientId, seq, occurred_at: occurredAt.toISOString(), payload: parsed };
    },
  };
}

export interface DomainEventFeed {
  /**
   * Calls `onEvents` with the client's events after `afterSeq` (oldest first, as they commit) until
   * the returned function is called. Resume a dropped stream from the last `seq` seen (an SSE
   * Last-Event-ID).
   */
  listen(clientId: string, afterSeq: number, onEvents: (events: DomainEvent[]) => void): () => void;
  close(): void;
}

/**
 * Polls each listened-to client's outbox every `intervalMs` (one query per client however many
 * listeners it has); every process sees every instance's events, since they are rows. Listeners
 * of one client may start from different points: each gets its own cursor.
 */
export function createDomainEventFeed(options: { tenancy: Tenancy; intervalMs?: number; batchSize?: number; onError?: (error: unknown) => void }): DomainEventFeed {
  const intervalMs = options.intervalMs ?? 250;
  const batchSize = options.batchSize ?? 500;
  type Listener = { cursor: number; onEvents: (events: DomainEvent[]) => void };
  const byClient = new Map<string, Set<Listener>>();
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  async function pollClient(clientId: string, listeners: Set<Listener>): Promise<void> {
    const from = Math.min(...[...listeners].map((l) => l.cursor));
    const rows = await options.tenancy.withTenant(clientId, (tx) => listDomainEventsAfter(tx, clientId, from, batchSize));
    if (rows.length === 0) return;
    const events = rows.map(toDomainEvent);
    for (const listener of listeners) {
      const fresh = events.filter((event) => event.seq > listener.cursor);
      if (fresh.length === 0) continue;
      listener.cursor = fresh[fresh.length - 1]!.seq;
      listener.onEvents(fresh);
    }
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      for (const [clientId, listeners] of byClient) {
        await pollClient(clientId, listeners).catch((error: unknown) => options.onError?.(error));
      }
    } finally {
      polling = false;
    }
  }

  function schedule(): void {
    if (timer !== undefined || byClient.size === 0) return;
    timer = setInterval(() => void poll(), intervalMs);
    timer.unref();
  }

  return {
    listen(clientId, afterSeq, onEvents) {
      const listener: Listener = { cursor: afterSeq, onEvents };
      const listeners = byClient.get(clientId) ?? new Set<Listener>();
      listeners.add(listener);
      byClient.set(clientId, listeners);
      schedule();
      void poll();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) byClient.delete(clientId);
        if (byClient.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    close() {
      byClient.clear();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
