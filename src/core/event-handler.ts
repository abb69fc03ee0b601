/**
 * The contract between the central router and the capabilities it routes to. A handler runs as a
 * durable job (one per event and handler), receives the client first, and must be idempotent:
 * jobs are retried, and Retell may deliver an event more than once.
 */
import type { ServableClient } from '../clients/client.schema.ts';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { defineJob, type JobDefinition } from '../platform/queue.ts';

export const eventJobPayload = z.object({
  client_id: z.string().min(1),
  call_id: z.string(),
  event: z.string().min(1),
  /** call_events.id of the stored event the job acts on. */
  event_id: z.uuid(),
});
export type EventJobPayload = z.infer<typeof eventJobPayload>;

export interface StoredEvent {
  id: string;
  clientId: string;
  callId: string;
  event: string;
  payload: Record<string, unknown>;
}

export interface EventHandler {
  /** Short name; also the job name suffix and the idempotency key part. */
  readonly kind: string;
  readonly job: JobDefinition<EventJobPayload>;
  handle(client: ServableClient, event: StoredEvent, deps: Deps): Promise<void>;
}

export function defineEventHandler(
  kind: string,
  handle: EventHandler['handle'],
  retry: Partial<Pick<JobDefinition<EventJobPayload>, 'retryLimit' | 'retryDelaySeconds' | 'expireInSeconds'>> = {},
): EventHandler {
  return { kind, job: defineJob({ name: `event.${kind}`, payload: eventJobPayload, ...retry }), handle };
}
