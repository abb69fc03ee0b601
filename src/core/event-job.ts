/**
 * A job the central router starts for a stored Retell event: one per (event, job), enqueued in the
 * ingest transaction. The payload names the stored event; a handler that needs its body loads it
 * (call_events), one that does not never does.
 */
import { z } from 'zod';
import type { JobDefinition } from '../platform/queue.ts';
import { defineJob, type Job } from './jobs.ts';

export const eventJobPayload = z.object({
  client_id: z.string().min(1),
  call_id: z.string(),
  event: z.string().min(1),
  /** call_events.id of the stored event the job acts on. */
  event_id: z.uuid(),
});
export type EventJobPayload = z.infer<typeof eventJobPayload>;

export interface EventJob extends Job<EventJobPayload> {
  /** Short name; the job name is `event.<kind>`, and the idempotency key carries it. */
  readonly kind: string;
}

export function defineEventJob(
  kind: string,
  handle: EventJob['handle'],
  retry: Partial<Pick<JobDefinition<EventJobPayload>, 'retryLimit' | 'retryDelaySeconds' | 'expireInSeconds'>> = {},
): EventJob {
  return { kind, ...defineJob({ name: `event.${kind}`, payload: eventJobPayload, ...retry, handle }) };
}

/** The idempotency key of the job `kind` for an event: one job per (client, call, kind, event type). */
export function eventJobKey(clientId: string, callId: string, kind: string, event: string): string {
  return `${clientId}:${callId}:${kind}:${event}`;
}
