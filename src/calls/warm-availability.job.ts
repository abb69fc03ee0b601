/**
 * When a call starts, compute the client's bookable slots so the agent's first availability
 * question is answered from cache. A subscriber of `call.started`.
 */
import { defineSubscriber } from '../core/subscribers.ts';

export const warmAvailability = defineSubscriber({
  name: 'warm-availability',
  events: ['call.started'],
  async handle(client, _event, ctx) {
    await ctx.adapters.calendarFor(client).warm();
  },
  // Warming is an optimisation: a few quick tries, then give up.
  retry: { retryLimit: 2, retryDelaySeconds: 1, expireInSeconds: 30 },
  ordered: false,
});
