/**
 * Subscribers to domain events. A subscriber names the event types it wants and a handler; each
 * event it wants becomes one durable job of its own (queue `subscriber.<name>`), enqueued in the
 * transaction that emitted the event, so a failing subscriber never blocks another and nothing
 * emitted is ever lost.
 *
 * Delivery: at least once (a retry may repeat a handler whose effect was not recorded: use
 * `event.id` as the idempotency key of anything it sends), and in order per client: a job whose
 * client still has an unfinished earlier event for this subscriber waits (retries) until that one
 * is done; on its last attempt it goes ahead rather than hold the client's stream forever.
 */
import { z } from 'zod';
import type { ClientRecord, ServableClient } from '../clients/client.schema.ts';
import type { JobDefinition } from '../platform/queue.ts';
import { RetryLaterError } from '../platform/queue.ts';
import type { DomainEvent, DomainEventType } from './domain-events.ts';
import { defineJob, type Job, type JobContext } from './jobs.ts';
import { findDomainEvent } from './outbox.repo.ts';
import { toDomainEvent } from './outbox.ts';

export const subscriberJobPayload = z.object({
  client_id: z.string().min(1),
  /** domain_events.id */
  event_id: z.uuid(),
  /** The event's per-client sequence number: orders this subscriber's jobs for one client. */
  seq: z.number().int().positive(),
  type: z.string().min(1),
});
export type SubscriberJobPayload = z.infer<typeof subscriberJobPayload>;

/** What a subscriber handler may use. */
export type SubscriberContext = JobContext;

export interface Subscriber<T extends DomainEventType = DomainEventType> {
  readonly name: string;
  readonly events: readonly T[];
  readonly job: Job<SubscriberJobPayload>;
}

export interface SubscriberDefinition<T extends DomainEventType> {
  /** Kebab-case; the queue is `subscriber.<name>`. */
  name: string;
  events: readonly T[];
  handle(client: ServableClient, event: DomainEvent<T>, ctx: SubscriberContext): Promise<void>;
  /**
   * Also hear the events of a client that cannot be served (invalid or disabled: an alert about
   * `client.config_invalid` must not wait for the fix). Without it those events wait, or are
   * skipped for a disabled client.
   */
  handleUnservable?(client: ClientRecord, event: DomainEvent<T>, ctx: SubscriberContext): Promise<void>;
  retry?: Partial<Pick<JobDefinition<SubscriberJobPayload>, 'retryLimit' | 'retryDelaySeconds' | 'retryDelayMaxSeconds' | 'expireInSeconds'>>;
  /** Deliver a client's events in `seq` order (default true); false for work that is fine in any order. */
  ordered?: boolean;
}

export function defineSubscriber<T extends DomainEventType>(definition: SubscriberDefinition<T>): Subscriber<T> {
  const onUnservable = definition.handleUnservable?.bind(definition);
  /** In order per client (unless unordered): the event loaded from the outbox, then the handler. */
  const deliver = async (client: ClientRecord, payload: SubscriberJobPayload, ctx: JobContext, handle: (event: DomainEvent<T>) => Promise<void>) => {
    if ((definition.ordered ?? true) && !ctx.attempt.final && (await ctx.queue.hasEarlierJob(job, client.id, payload.seq))) {
      throw new RetryLaterError(`an earlier event of client ${client.id} is still pending for subscriber ${definition.name}`);
    }
    const row = await ctx.tenancy.withTenant(client.id, (tx) => findDomainEvent(tx, client.id, payload.event_id));
    if (!row) throw new Error(`domain event ${payload.event_id} not found`);
    await handle(toDomainEvent(row) as DomainEvent<T>);
  };
  const job: Job<SubscriberJobPayload> = defineJob({
    name: `subscriber.${definition.name}`,
    payload: subscriberJobPayload,
    retryLimit: 12,
    retryDelaySeconds: 1,
    retryDelayMaxSeconds: 60,
    expireInSeconds: 120,
    ...definition.retry,
    handle: (client, payload, ctx) => deliver(client, payload, ctx, (event) => definition.handle(client, event, ctx)),
    ...(onUnservable
      ? { handleUnservable: (client: ClientRecord, payload: SubscriberJobPayload, ctx: JobContext) => deliver(client, payload, ctx, (event) => onUnservable(client, event, ctx)) }
      : {}),
  });
  return { name: definition.name, events: definition.events, job };
}
