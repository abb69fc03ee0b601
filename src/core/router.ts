/**
 * The central router: the map of the platform. A stored Retell event starts the jobs listed for
 * its type (one durable job each, enqueued in the ingest transaction); a domain event starts one
 * job per subscriber of its type (enqueued in the transaction that emitted it). Retell events not
 * listed here are stored and acknowledged but start no work.
 *
 *   Retell event   → jobs                        → domain events
 *   call_started   → call-started                → call.started
 *   call_ended     → post-call (+ its fallback)  → message.*, call.completed (after the summary wait)
 *   call_analyzed  → post-call                   → message.*, call.completed
 *
 *   domain event   → subscribers
 *   call.started   → warm-availability
 *   client.config_*, integration.*, message.failed|suppressed → alerts (re-runs the detectors concerned)
 *   every event    → outbound-webhooks (one webhook-delivery job per matching subscription)
 */
import { alertNoticeJob } from '../alerts/alert-notice.job.ts';
import { alertEvaluateJob, alertsSubscriber } from '../alerts/alerts.job.ts';
import { callStarted } from '../calls/call-started.job.ts';
import { postCallFallback, postCallWorkflow } from '../calls/post-call.job.ts';
import { warmAvailability } from '../calls/warm-availability.job.ts';
import { messageSendJob } from '../messages/message-send.job.ts';
import { outboundWebhooksSubscriber, webhookDeliveryJob } from '../outbound-webhooks/webhook-delivery.job.ts';
import type { JobCatalogue } from './dispatch.ts';
import type { EventJob } from './event-job.ts';
import type { Subscriber } from './subscribers.ts';

export const EVENT_ROUTES: Readonly<Record<string, readonly EventJob[]>> = {
  call_started: [callStarted],
  call_ended: [postCallWorkflow],
  call_analyzed: [postCallWorkflow],
};

export const SUBSCRIBERS: readonly Subscriber[] = [warmAvailability, alertsSubscriber, outboundWebhooksSubscriber];

export function jobsFor(event: string): readonly EventJob[] {
  return Object.hasOwn(EVENT_ROUTES, event) ? (EVENT_ROUTES[event] ?? []) : [];
}

/** Every job once (some are started by other jobs, not by an event), registered by every process. */
export const JOB_CATALOGUE: JobCatalogue = {
  jobs: [...new Set([...Object.values(EVENT_ROUTES).flat(), postCallFallback, messageSendJob, alertEvaluateJob, alertNoticeJob, webhookDeliveryJob])],
  subscribers: SUBSCRIBERS,
};
