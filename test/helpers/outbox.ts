/**
 * Domain events in tests: read a client's outbox, and a queue for an outbox with no subscribers.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { DomainEventType } from '../../src/core/domain-events.ts';
import { createOutbox, type Outbox } from '../../src/core/outbox.ts';
import type { Tenancy } from '../../src/platform/db/tenancy.ts';
import { domainEvents } from '../../src/platform/db/schema.ts';

/** For an outbox no subscriber is routed to: enqueuing is never reached. */
export const noQueue = {
  enqueue: async (): Promise<string | null> => {
    throw new Error('no subscribers are routed in this test');
  },
};

/** An outbox with no subscribers (events are stored, no job is enqueued): for tests without a job queue. */
export function outboxWithoutSubscribers(): Outbox {
  const outbox = createOutbox(noQueue);
  outbox.route([]);
  return outbox;
}

/** The client's domain events (as that client sees them, through RLS), oldest first. */
export async function eventsOf(tenancy: Tenancy, clientId: string, type?: DomainEventType) {
  return tenancy.withTenant(clientId, (tx) =>
    tx
      .select()
      .from(domainEvents)
      .where(type ? and(eq(domainEvents.clientId, clientId), eq(domainEvents.type, type)) : eq(domainEvents.clientId, clientId))
      .orderBy(asc(domainEvents.seq)),
  );
}
