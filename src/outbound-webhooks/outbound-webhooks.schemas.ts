/**
 * Request and response shapes of the outbound webhook API (client API and admin API alike). A
 * subscription's secret leaves the API once: in the answer that created or rotated it.
 */
import { z } from 'zod';
import { DOMAIN_EVENT_TYPES } from '../core/domain-events.ts';

export const subscriptionParams = z.object({
  clientId: z.string().min(1).max(100).describe('The client id.'),
  subscriptionId: z.uuid().describe('The subscription id.'),
});
export const deliveryParams = z.object({
  clientId: z.string().min(1).max(100).describe('The client id.'),
  deliveryId: z.uuid().describe('The delivery id.'),
});

const eventTypes = z
  .array(z.enum(DOMAIN_EVENT_TYPES as [string, ...string[]]))
  .min(1)
  .max(DOMAIN_EVENT_TYPES.length)
  .describe('Domain event types to deliver (the catalogue of GET …/webhook-event-types).');

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 bytes. */
export const webhookSecretInput = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
  .refine((v) => {
    const bytes = Buffer.from(v.slice('whsec_'.length), 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'must carry a key of 24 to 64 bytes');

export const createSubscriptionBody = z
  .object({
    url: z.string().min(1).max(2000).describe('https:// URL of the client system; must be a public address.'),
    event_types: eventTypes,
    description: z.string().max(500).nullable().optional(),
    secret: webhookSecretInput.optional().describe('Bring your own `whsec_` secret; default: one is generated and shown once.'),
  })
  .strict();

export const updateSubscriptionBody = z
  .object({
    url: z.string().min(1).max(2000).optional(),
    event_types: eventTypes.optional(),
    description: z.string().max(500).nullable().optional(),
    status: z.enum(['active', 'disabled']).optional().describe('`active` re-enables a subscription disabled after 24 h of failures.'),
  })
  .strict();

export const rotateSecretBody = z
  .object({
    previous_valid_hours: z
      .number()
      .int()
      .min(0)
      .max(168)
      .default(24)
      .describe('How long deliveries are also signed with the old secret (0 ends it at once).'),
  })
  .strict();

export const deliveryStatuses = ['pending', 'waiting', 'succeeded', 'dead'] as const;

export const subscriptionView = z.object({
  id: z.uuid(),
  client_id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  status: z.enum(['active', 'disabled']),
  disabled_reason: z.string().nullable(),
  disabled_at: z.string().nullable(),
  failing_since: z.string().nullable().describe('Every attempt since this time failed; 24 h of it disables the subscription.'),
  secret_hint: z.string().describe('The last characters of the current secret.'),
  previous_secret_valid_until: z.string().nullable().describe('During a rotation: until when the old secret signs too.'),
  last_delivery: z
    .object({ id: z.uuid(), status: z.enum(deliveryStatuses), last_status_code: z.number().int().nullable(), created_at: z.string(), delivered_at: z.string().nullable() })
    .nullable()
    .describe('The newest delivery to this subscription (null: none yet).'),
  created_at: z.string(),
  updated_at: z.string(),
});
export type SubscriptionView = z.infer<typeof subscriptionView>;

export const subscriptionList = z.object({ items: z.array(subscriptionView) });
export const subscriptionWithSecret = subscriptionView.extend({
  secret: z.string().describe('The `whsec_` signing secret: shown only in this answer.'),
});

export const deliveryView = z.object({
  id: z.uuid(),
  subscription_id: z.uuid(),
  webhook_id: z.string().describe('The `webhook-id` header: the same on every attempt and replay.'),
  event_id: z.uuid(),
  event_type: z.string(),
  event_seq: z.number().int(),
  ordered: z.boolean(),
  status: z.enum(deliveryStatuses).describe('pending (due or retrying) | waiting (behind an earlier ordered event) | succeeded | dead (retries over; replayable)'),
  attempts: z.number().int(),
  last_status_code: z.number().int().nullable(),
  last_latency_ms: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
  created_at: z.string(),
});
export type DeliveryView = z.infer<typeof deliveryView>;

export const attemptView = z.object({
  attempt: z.number().int(),
  outcome: z.enum(['succeeded', 'failed']),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  error: z.string().nullable(),
  attempted_at: z.string(),
});

export const deliveryDetail = deliveryView.extend({ attempts_log: z.array(attemptView) });
export const deliveryPage = z.object({ items: z.array(deliveryView), next_cursor: z.string().nullable() });

export const listDeliveriesQuery = z.object({
  subscription_id: z.uuid().optional(),
  status: z.enum(deliveryStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional().describe('`next_cursor` of the previous page.'),
});

export const eventTypeList = z.object({ items: z.array(z.object({ type: z.string(), ordered: z.boolean() })) });
