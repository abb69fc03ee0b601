/**
 * The post-call workflow, started by call_ended and call_analyzed. Each (client, call, kind) runs
 * once: the workflow_runs row is the idempotency record.
 */
import { defineEventHandler } from '../core/event-handler.ts';
import { workflowRuns } from '../platform/db/schema.ts';

export const postCallWorkflow = defineEventHandler('post-call', async (client, event, deps) => {
  const kind = `post_call:${event.event}`;
  const features = client.config.features;
  await deps.tenancy.withTenant(client.id, async (tx) => {
    await tx
      .insert(workflowRuns)
      .values({
        clientId: client.id,
        callId: event.callId,
        kind,
        status: 'recorded',
        detail: {
          trigger_event_id: event.id,
          sms_followup: features.sms_followup && Boolean(client.config.sms?.enabled),
          email_summary: features.email_summary && Boolean(client.config.email?.enabled),
          environment: client.config.environment,
        },
      })
      .onConflictDoNothing({ target: [workflowRuns.clientId, workflowRuns.callId, workflowRuns.kind] });
  });
});
