/**
 * The outbound webhook jobs: the subscriber that fans each domain event out to the client's
 * matching subscriptions, and the delivery job that makes one attempt (webhook-delivery.ts).
 */
import { DOMAIN_EVENT_TYPES } from '../core/domain-events.ts';
import { defineJob } from '../core/jobs.ts';
import { defineSubscriber } from '../core/subscribers.ts';
import { attemptDelivery, deliveryJobDefinition, fanOutEvent } from './webhook-delivery.ts';

export const webhookDeliveryJob = defineJob({
  ...deliveryJobDefinition,
  handle: (client, payload, ctx) => attemptDelivery(client.id, payload.delivery_id, ctx),
});

/**
 * Unordered: fan-out only creates rows and jobs (order is kept per subscription by the deliveries
 * themselves, by `seq`), so one client's slow database moment never holds its other events.
 */
export const outboundWebhooksSubscriber = defineSubscriber({
  name: 'outbound-webhooks',
  events: DOMAIN_EVENT_TYPES,
  ordered: false,
  async handle(client, event, ctx) {
    await fanOutEvent(client, event, ctx);
  },
});
