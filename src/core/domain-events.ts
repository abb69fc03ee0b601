/**
 * The catalogue of domain events: everything that happens in the platform that another capability
 * may react to (alerts, outbound webhooks, the dashboard's live view, usage metering). Closed: an
 * event not listed here cannot be emitted. Each type has a version and a zod payload; a change
 * that is not backwards compatible (a field removed or retyped) adds a new version instead of
 * editing this one, so stored events and subscribers keep their meaning.
 *
 * Events are written to the outbox (table `domain_events`) in the same tenant transaction as the
 * change that causes them (see outbox.ts): committed together, rolled back together, and never
 * twice for one idempotency key.
 */
import { z } from 'zod';
import type { Tx } from '../platform/db/database.ts';

const callId = z.string().min(1);
const isoTime = z.iso.datetime({ offset: true });
const channel = z.enum(['sms', 'email']);
const capability = z.enum(['calendar', 'sms', 'email']);

export const DOMAIN_EVENTS = {
  /** Retell reported the call started (derived from the stored call_started event). */
  'call.started': {
    version: 1,
    payload: z.object({
      call_id: callId,
      agent_id: z.string().nullable(),
      direction: z.string().nullable(),
      from_number: z.string().nullable(),
      to_number: z.string().nullable(),
      started_at: isoTime.nullable(),
    }),
  },
  /** The call is over and its post-call work decided: with Retell's analysis, or without it after the summary wait. */
  'call.completed': {
    version: 1,
    payload: z.object({
      call_id: callId,
      /** One rule for the whole platform: src/calls/call-connection.ts. */
      connection: z.enum(['connected', 'no_answer', 'voicemail']),
      with_analysis: z.boolean(),
      duration_ms: z.number().int().nullable(),
      disconnection_reason: z.string().nullable(),
      ended_at: isoTime.nullable(),
    }),
  },
  'appointment.booked': {
    version: 1,
    payload: z.object({ appointment_id: z.uuid(), call_id: callId.nullable(), starts_at: isoTime, ends_at: isoTime, provider: z.string() }),
  },
  'appointment.rescheduled': {
    version: 1,
    payload: z.object({ appointment_id: z.uuid(), call_id: callId.nullable(), starts_at: isoTime, ends_at: isoTime, previous_starts_at: isoTime }),
  },
  'appointment.cancelled': {
    version: 1,
    payload: z.object({ appointment_id: z.uuid(), call_id: callId.nullable(), starts_at: isoTime }),
  },
  /** The provider accepted the message. */
  'message.sent': {
    version: 1,
    payload: z.object({ message_id: z.uuid(), call_id: callId.nullable(), channel, kind: z.string(), provider: z.string(), provider_message_id: z.string().nullable() }),
  },
  /** The provider reported delivery to the handset (Twilio status callbacks). */
  'message.delivered': {
    version: 1,
    payload: z.object({ message_id: z.uuid(), call_id: callId.nullable(), channel, provider: z.string() }),
  },
  /** Given up: a permanent provider refusal, retries exhausted, or an undeliverable report. */
  'message.failed': {
    version: 1,
    payload: z.object({ message_id: z.uuid(), call_id: callId.nullable(), channel, kind: z.string(), provider: z.string(), error_code: z.string().nullable() }),
  },
  /** Not sent on purpose: the recipient opted out (when queued, or as the provider reported). */
  'message.suppressed': {
    version: 1,
    payload: z.object({ message_id: z.uuid(), call_id: callId.nullable(), channel, kind: z.string(), reason: z.string() }),
  },
  'customer.opted_out': {
    version: 1,
    payload: z.object({ customer_id: z.uuid(), phone: z.string(), source: z.enum(['sms_keyword', 'provider']) }),
  },
  'customer.opted_in': {
    version: 1,
    payload: z.object({ customer_id: z.uuid(), phone: z.string(), source: z.enum(['sms_keyword']) }),
  },
  /** The client's configuration stopped validating: its requests answer 503 until it is fixed. */
  'client.config_invalid': {
    version: 1,
    payload: z.object({ config_hash: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })) }),
  },
  'client.config_restored': {
    version: 1,
    payload: z.object({ config_hash: z.string() }),
  },
  /** A provider refused the client's credentials: only a person can fix it. */
  'integration.degraded': {
    version: 1,
    payload: z.object({ capability, provider: z.string(), detail: z.string() }),
  },
  'integration.recovered': {
    version: 1,
    payload: z.object({ capability, provider: z.string() }),
  },
  /**
   * An outbound webhook subscription was switched off after every delivery to it failed for 24 h
   * (src/outbound-webhooks/): the client's systems stopped hearing events until someone re-enables it.
   */
  'webhook_subscription.disabled': {
    version: 1,
    payload: z.object({ subscription_id: z.uuid(), url_host: z.string(), failing_since: isoTime, reason: z.string() }),
  },
} as const satisfies Record<string, { version: number; payload: z.ZodType }>;

export type DomainEventType = keyof typeof DOMAIN_EVENTS;
export const DOMAIN_EVENT_TYPES = Object.keys(DOMAIN_EVENTS) as DomainEventType[];
export type DomainEventPayload<T extends DomainEventType> = z.infer<(typeof DOMAIN_EVENTS)[T]['payload']>;

/**
 * The stable envelope every subscriber and listener sees (the shape an outbound webhook or an SSE
 * frame carries). `seq` increases per client in commit order.
 */
export interface DomainEvent<T extends DomainEventType = DomainEventType> {
  id: string;
  type: T;
  version: number;
  client_id: string;
  seq: number;
  occurred_at: string;
  payload: DomainEventPayload<T>;
}

export interface EmitOptions {
  /**
   * Unique per client: the cause's identity (`message:<id>:sent`), so a retried job or a
   * redelivered webhook that reaches the same point again emits nothing.
   */
  key: string;
  /** When it happened; default now. */
  occurredAt?: Date;
}

/** How causes emit: inside their own tenant transaction `tx`, so the event commits or rolls back with them. */
export interface DomainEventEmitter {
  /** The event, or undefined when one with this key was already emitted for this client. */
  emit<T extends DomainEventType>(tx: Tx, clientId: string, type: T, payload: DomainEventPayload<T>, options: EmitOptions): Promise<DomainEvent<T> | undefined>;
}

export function isDomainEventType(type: string): type is DomainEventType {
  return Object.hasOwn(DOMAIN_EVENTS, type);
}
