/**
 * When a call starts, compute the client's bookable slots so the agent's first availability
 * question is answered from cache.
 */
import { defineEventHandler } from '../core/event-handler.ts';

export const warmAvailability = defineEventHandler(
  'warm-availability',
  async (client, _event, deps) => {
    await deps.calendarFor(client).warm();
  },
  // Warming is an optimisation: a few quick tries, then give up.
  { retryLimit: 2, retryDelaySeconds: 1, expireInSeconds: 30 },
);
