/**
 * The outbox tables (domain_events, domain_event_sequences), always inside the caller's tenant
 * transaction. The insert takes the client's next `seq` from its sequence row, whose row lock is
 * held until commit: a client's emitting transactions commit one after another, so `seq` order is
 * commit order and a reader polling by `seq` never misses an event that commits later.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { sqlRows, type Tx } from '../platform/db/database.ts';
import { domainEvents } from '../platform/db/schema.ts';

export type DomainEventRow = typeof domainEvents.$inferSelect;

export interface NewDomainEvent {
  id: string;
  type: string;
  version: number;
  idempotencyKey: string;
  occurredAt: Date;
  payload: unknown;
}

/** Stores the event unless its key is already stored for this client; returns its seq when stored. */
export async function insertDomainEvent(tx: Tx, clientId: string, event: NewDomainEvent): Promise<number | undefined> {
  const [row] = await sqlRows<{ seq: string | number }>(
    tx,
    sql`
    with fresh as (
      select 1 where not exists (select 1 from domain_events where client_id = ${clientId} and idempotency_key = ${event.idempotencyKey})
    ),
    next as (
      insert into domain_event_sequences (client_id, last_seq)
      select ${clientId}, 1 from fresh
      on conflict (client_id) do update set last_seq = domain_event_sequences.last_seq + 1
      returning last_seq
    )
    insert into domain_events (id, client_id, seq, type, version, idempotency_key, occurred_at, payload)
    select ${event.id}::uuid, ${clientId}, last_seq, ${event.type}, ${event.version}::int, ${event.idempotencyKey},
           ${event.occurredAt.toISOString()}::timestamptz, ${JSON.stringify(event.payload)}::jsonb
    from next
    on conflict (client_id, idempotency_key) do nothing
    returning seq`,
  );
  return row === undefined ? undefined : Number(row.seq);
}

export async function findDomainEvent(tx: Tx, clientId: string, id: string): Promise<DomainEventRow | undefined> {
  const [row] = await tx.select().from(domainEvents).where(and(eq(domainEvents.clientId, clientId), eq(domainEvents.id, id)));
  return row;
}

/** The client's events after `afterSeq`, oldest first. */
export async function listDomainEventsAfter(tx: Tx, clientId: string, afterSeq: number, limit: number): Promise<DomainEventRow[]> {
  return tx
    .select()
    .from(domainEvents)
    .where(and(eq(domainEvents.clientId, clientId), gt(domainEvents.seq, afterSeq)))
    .orderBy(asc(domainEvents.seq))
    .limit(limit);
}
