/**
 * The central router: the map of the platform. A Retell event type maps to the handlers that run
 * for it, each as its own durable job receiving (client, event). Events not listed here are stored
 * and acknowledged but start no work.
 */
import { postCallWorkflow, summaryFallback } from '../calls/post-call.job.ts';
import { warmAvailability } from '../calls/warm-availability.job.ts';
import type { EventHandler } from './event-handler.ts';

export const EVENT_ROUTES: Readonly<Record<string, readonly EventHandler[]>> = {
  call_started: [warmAvailability],
  call_ended: [postCallWorkflow],
  call_analyzed: [postCallWorkflow],
};

export function handlersFor(event: string): readonly EventHandler[] {
  return Object.hasOwn(EVENT_ROUTES, event) ? (EVENT_ROUTES[event] ?? []) : [];
}

/** Every handler once, for registering queues and workers; some are scheduled by other handlers. */
export const ALL_HANDLERS: readonly EventHandler[] = [...new Set([...Object.values(EVENT_ROUTES).flat(), summaryFallback])];
