/**
 * call_started → `call.started`: derived here, from the stored event, rather than in the webhook
 * transaction, so the ingest hot path writes nothing more for it. A booking or the completion may
 * emit it first (calls.service.ts ensureCallStarted): the key keeps it to one.
 */
import { defineEventJob } from '../core/event-job.ts';
import type { JobContext } from '../core/jobs.ts';
import { findStoredEvent } from './calls.repo.ts';
import { emitCallStarted } from './calls.service.ts';

const text = (value: unknown) => (typeof value === 'string' ? value : null);

export const callStarted = defineEventJob('call-started', async (client, payload, ctx: Pick<JobContext, 'tenancy' | 'events'>) => {
  await ctx.tenancy.withTenant(client.id, async (tx) => {
    const stored = await findStoredEvent(tx, client.id, payload.event_id);
    if (!stored) throw new Error(`event ${payload.event_id} not found`);
    const call = (stored.payload as { call?: Record<string, unknown> } | null)?.call ?? {};
    const startedAt = typeof call.start_timestamp === 'number' ? new Date(call.start_timestamp) : null;
    await emitCallStarted(tx, ctx.events, client.id, {
      call_id: stored.callId,
      agent_id: text(call.agent_id),
      direction: text(call.direction),
      from_number: text(call.from_number),
      to_number: text(call.to_number),
      started_at: startedAt && !Number.isNaN(startedAt.getTime()) ? startedAt.toISOString() : null,
    });
  });
});
