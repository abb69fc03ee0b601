/**
 * Delivering domain events to a client's own systems in the Standard Webhooks format.
 *
 * - Fan-out (the `outbound-webhooks` subscriber): one delivery row per (event, matching active
 *   subscription), unique, and one delivery job for it, in one tenant transaction: a repeated
 *   event job adds nothing.
 * - A delivery job makes one attempt. On failure it schedules the next attempt itself (exponential
 *   backoff, retryDelayMs) until RETRY_WINDOW_MS after the first attempt, then the delivery is
 *   dead (replayable). The clock is the job context's, so the 24 h rules are testable.
 * - Ordered event types (ORDERED_EVENT_TYPES) reach a subscription in `seq` order: a delivery
 *   waits while an earlier ordered one of its subscription is open; finishing one (delivered or
 *   dead) starts the next waiting one. The decision runs under the subscription's row lock.
 * - A subscription whose every attempt failed for RETRY_WINDOW_MS is disabled, its open
 *   deliveries end dead, and `webhook_subscription.disabled` is emitted: the alerts subscriber opens
 *   the webhook_disabled incident, which resolves once the subscription is re-enabled or deleted.
 */
import { z } from 'zod';
import type { ServableClient } from '../clients/client.schema.ts';
import type { DomainEvent, DomainEventType } from '../core/domain-events.ts';
import type { JobContext } from '../core/jobs.ts';
import { loadDomainEvent } from '../core/outbox.ts';
import type { Tx } from '../platform/db/database.ts';
import { defineJob as defineQueueJob, type JobDefinition, type JobQueue } from '../platform/queue.ts';
import { signStandardWebhookWithAll } from '../platform/standard-webhooks.ts';
import {
  activeSubscriptionsFor,
  findDelivery,
  findSubscription,
  firstOpenOrdered,
  hasOpenOrderedBefore,
  insertAttempt,
  insertDelivery,
  openDeliveries,
  updateDelivery,
  updateSubscription,
  type DeliveryRow,
  type SubscriptionRow,
} from './outbound-webhooks.repo.ts';

/** The deadline of one attempt: DNS, connect, TLS, request and response. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** The receiver's answer is read up to this much, then refused (we only need its status). */
export const MAX_RESPONSE_BYTES = 16 * 1024;
/** How long a delivery is retried, and how long a subscription may fail before it is disabled. */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Delay before the next attempt after the n-th failed one: 30 s doubling up to 2 h. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, failedAttempts - 1), 2 * 60 * 60 * 1000);
}

/**
 * Event types whose order a receiver relies on (an appointment booked, then rescheduled, then
 * cancelled; an opt-out, then an opt-in): delivered to a subscription one at a time in `seq`
 * order. Other types are independent facts and go out in parallel.
 */
export const ORDERED_EVENT_TYPES: ReadonlySet<DomainEventType> = new Set<DomainEventType>([
  'appointment.booked',
  'appointment.rescheduled',
  'appointment.cancelled',
  'customer.opted_out',
  'customer.opted_in',
  'client.config_invalid',
  'client.config_restored',
  'integration.degraded',
  'integration.recovered',
]);

export const deliveryJobPayload = z.object({ client_id: z.string().min(1), delivery_id: z.uuid() });
export type DeliveryJobPayload = z.infer<typeof deliveryJobPayload>;

/** The queue definition of a delivery job (the handler is in webhook-delivery.job.ts). */
export const deliveryJobDefinition: JobDefinition<DeliveryJobPayload> = defineQueueJob({
  name: 'webhook-delivery',
  payload: deliveryJobPayload,
  // Attempts are scheduled by the handler (it records each one); pg-boss retries only a handler that
  // could not record its outcome (the database away), soon.
  retryLimit: 10,
  retryDelaySeconds: 5,
  retryDelayMaxSeconds: 300,
  expireInSeconds: 60,
});

export type DeliveryContext = Pick<JobContext, 'tenancy' | 'events' | 'outbound' | 'sealer' | 'clock' | 'logger'> & { readonly queue: Pick<JobQueue, 'enqueue'> };

/** `webhook-id`: stable for one event and one subscription, across retries and replays. */
export function webhookIdOf(delivery: Pick<DeliveryRow, 'id'>): string {
  return `msg_${delivery.id.replaceAll('-', '')}`;
}

/** The JSON body: the Standard Webhooks shape (type, timestamp, data) plus the envelope's identity. */
export function webhookBody(event: DomainEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurred_at,
    data: event.payload,
    event_id: event.id,
    version: event.version,
    seq: event.seq,
    client_id: event.client_id,
  });
}

/** The secrets that sign now: the current one, and the previous one while its rotation window lasts. */
export function signingSecrets(subscription: SubscriptionRow, ctx: Pick<DeliveryContext, 'sealer'>, now: Date): string[] {
  const secrets = [ctx.sealer.open(subscription.secret)];
  if (subscription.previousSecret && subscription.previousSecretExpiresAt && subscription.previousSecretExpiresAt > now) {
    secrets.push(ctx.sealer.open(subscription.previousSecret));
  }
  return secrets;
}

async function enqueueAttempt(tx: Tx, ctx: Pick<DeliveryContext, 'queue'>, delivery: DeliveryRow, key: string, startAfter?: Date): Promise<void> {
  await ctx.queue.enqueue(
    deliveryJobDefinition,
    { client_id: delivery.clientId, delivery_id: delivery.id },
    { tx, key: `${delivery.clientId}:${delivery.id}:${key}`, ...(startAfter ? { startAfter } : {}) },
  );
}

/** Fan-out of one event: a delivery (and its job) per matching active subscription. Returns how many were new. */
export async function fanOutEvent(client: ServableClient, event: DomainEvent, ctx: Pick<DeliveryContext, 'tenancy' | 'queue'>): Promise<number> {
  return ctx.tenancy.withTenant(client.id, async (tx) => {
    let created = 0;
    for (const subscription of await activeSubscriptionsFor(tx, client.id, event.type)) {
      const delivery = await insertDelivery(tx, client.id, {
        subscriptionId: subscription.id,
        eventId: event.id,
        eventType: event.type,
        eventSeq: event.seq,
        ordered: ORDERED_EVENT_TYPES.has(event.type),
      });
      if (!delivery) continue;
      await enqueueAttempt(tx, ctx, delivery, 'first');
      created += 1;
    }
    return created;
  });
}

/** After an ordered delivery finished: start the next one of its subscription that waits for it. */
async function startNextOrdered(tx: Tx, ctx: Pick<DeliveryContext, 'queue'>, finished: DeliveryRow): Promise<void> {
  if (!finished.ordered) return;
  const next = await firstOpenOrdered(tx, finished.clientId, finished.subscriptionId);
  if (next?.status !== 'waiting') return;
  const started = await updateDelivery(tx, next.clientId, next.id, { status: 'pending' });
  if (started) await enqueueAttempt(tx, ctx, started, `after:${finished.id}:${finished.attempts}`);
}

async function endDelivery(tx: Tx, ctx: Pick<DeliveryContext, 'queue'>, delivery: DeliveryRow, reason: string): Promise<void> {
  const ended = await updateDelivery(tx, delivery.clientId, delivery.id, { status: 'dead', nextAttemptAt: null, lastError: reason });
  if (ended) await startNextOrdered(tx, ctx, ended);
}

/**
 * What an attempt decided before sending: nothing to do (`skip`), wait behind an earlier ordered
 * delivery, or send this body signed with these secrets.
 */
type Plan = { kind: 'skip'; outcome: string } | { kind: 'send'; delivery: DeliveryRow; url: string; body: string; secrets: string[] };

async function plan(clientId: string, deliveryId: string, ctx: DeliveryContext): Promise<Plan> {
  const now = ctx.clock();
  return ctx.tenancy.withTenant(clientId, async (tx) => {
    const delivery = await findDelivery(tx, clientId, deliveryId);
    if (!delivery || delivery.status !== 'pending') return { kind: 'skip', outcome: 'skipped' };
    // A second job for the same attempt (a replay racing a scheduled retry) comes back later.
    if (delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() > now.getTime() + 1000) return { kind: 'skip', outcome: 'not_due' };
    const subscription = await findSubscription(tx, clientId, delivery.subscriptionId, { forUpdate: true });
    if (!subscription) {
      await endDelivery(tx, ctx, delivery, 'subscription deleted');
      return { kind: 'skip', outcome: 'dead' };
    }
    if (subscription.status !== 'active') {
      await endDelivery(tx, ctx, delivery, 'subscription disabled');
      return { kind: 'skip', outcome: 'dead' };
    }
    if (delivery.ordered && (await hasOpenOrderedBefore(tx, clientId, subscription.id, delivery.eventSeq))) {
      await updateDelivery(tx, clientId, delivery.id, { status: 'waiting' });
      return { kind: 'skip', outcome: 'waiting' };
    }
    const event = await loadDomainEvent(tx, clientId, delivery.eventId);
    if (!event) {
      await endDelivery(tx, ctx, delivery, 'event no longer stored');
      return { kind: 'skip', outcome: 'dead' };
    }
    return { kind: 'send', delivery, url: subscription.url, body: webhookBody(event), secrets: signingSecrets(subscription, ctx, now) };
  });
}

/** One attempt of one delivery; records it and schedules what follows. Returns the job outcome. */
export async function attemptDelivery(clientId: string, deliveryId: string, ctx: DeliveryContext): Promise<string> {
  const decided = await plan(clientId, deliveryId, ctx);
  if (decided.kind === 'skip') return decided.outcome;
  const { delivery, url, body, secrets } = decided;

  const attemptedAt = ctx.clock();
  const id = webhookIdOf(delivery);
  const timestamp = Math.floor(attemptedAt.getTime() / 1000);
  const started = performance.now();
  const answer = await ctx.outbound.request({
    url,
    operation: 'webhook_delivery',
    body,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'xlnc-perception-webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhookWithAll(secrets, id, timestamp, body),
    },
  });
  const latencyMs = Math.round(performance.now() - started);
  const statusCode = answer.ok ? answer.status : (answer.status ?? null);
  const succeeded = answer.ok && answer.status >= 200 && answer.status < 300;
  const error = succeeded ? null : answer.ok ? `receiver answered ${answer.status}` : `${answer.code}: ${answer.message}`;
  const attempt = delivery.attempts + 1;

  return ctx.tenancy.withTenant(clientId, async (tx) => {
    const subscription = await findSubscription(tx, clientId, delivery.subscriptionId, { forUpdate: true });
    await insertAttempt(tx, clientId, { deliveryId: delivery.id, attempt, outcome: succeeded ? 'succeeded' : 'failed', statusCode, latencyMs, error, attemptedAt });
    const firstAttemptAt = delivery.firstAttemptAt ?? attemptedAt;
    const common = { attempts: attempt, firstAttemptAt, lastAttemptAt: attemptedAt, lastStatusCode: statusCode, lastLatencyMs: latencyMs, lastError: error };

    if (succeeded) {
      const done = await updateDelivery(tx, clientId, delivery.id, { ...common, status: 'succeeded', nextAttemptAt: null, deliveredAt: attemptedAt });
      if (subscription?.failingSince) await updateSubscription(tx, clientId, subscription.id, { failingSince: null });
      if (done) await startNextOrdered(tx, ctx, done);
      return 'delivered';
    }

    const failingSince = subscription?.failingSince ?? attemptedAt;
    if (subscription && subscription.status === 'active' && attemptedAt.getTime() - failingSince.getTime() >= RETRY_WINDOW_MS) {
      await updateDelivery(tx, clientId, delivery.id, { ...common });
      await disableSubscription(tx, ctx, subscription, failingSince, attemptedAt);
      return 'dead';
    }
    // Only while active: an attempt in flight when a user disabled the subscription must not mark it as switched off by failures.
    if (subscription?.status === 'active' && !subscription.failingSince) await updateSubscription(tx, clientId, subscription.id, { failingSince });

    // The last attempt is made at the end of the window, when a subscription failing all along is disabled above.
    const deadline = firstAttemptAt.getTime() + RETRY_WINDOW_MS;
    if (attemptedAt.getTime() >= deadline) {
      const dead = await updateDelivery(tx, clientId, delivery.id, { ...common, status: 'dead', nextAttemptAt: null });
      if (dead) await startNextOrdered(tx, ctx, dead);
      return 'dead';
    }
    const nextAttemptAt = new Date(Math.min(attemptedAt.getTime() + retryDelayMs(attempt), deadline));
    const retrying = await updateDelivery(tx, clientId, delivery.id, { ...common, status: 'pending', nextAttemptAt });
    if (retrying) await enqueueAttempt(tx, ctx, retrying, `attempt:${attempt + 1}`, nextAttemptAt);
    return 'retrying';
  });
}

/** Every attempt failed for RETRY_WINDOW_MS: switch the subscription off, end its open deliveries, tell alerts. */
async function disableSubscription(tx: Tx, ctx: Pick<DeliveryContext, 'events'>, subscription: SubscriptionRow, failingSince: Date, now: Date): Promise<void> {
  const reason = `every delivery failed for 24 hours (since ${failingSince.toISOString()})`;
  await updateSubscription(tx, subscription.clientId, subscription.id, { status: 'disabled', disabledAt: now, disabledReason: reason });
  for (const open of await openDeliveries(tx, subscription.clientId, subscription.id)) {
    await updateDelivery(tx, open.clientId, open.id, { status: 'dead', nextAttemptAt: null, lastError: open.lastError ?? 'subscription disabled' });
  }
  await ctx.events.emit(
    tx,
    subscription.clientId,
    'webhook_subscription.disabled',
    { subscription_id: subscription.id, url_host: new URL(subscription.url).host, failing_since: failingSince.toISOString(), reason },
    { key: `webhook_subscription:${subscription.id}:disabled:${failingSince.toISOString()}`, occurredAt: now },
  );
}

/** Manual replay: the delivery goes out again at once (same `webhook-id`), with a fresh 24 h window. */
export async function replayDelivery(tx: Tx, ctx: Pick<DeliveryContext, 'queue'>, delivery: DeliveryRow): Promise<DeliveryRow | undefined> {
  const replayed = await updateDelivery(tx, delivery.clientId, delivery.id, { status: 'pending', nextAttemptAt: null, firstAttemptAt: null, deliveredAt: null });
  if (replayed) await enqueueAttempt(tx, ctx, replayed, `replay:${delivery.attempts}`);
  return replayed;
}
