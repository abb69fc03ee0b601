/**
 * Runs the router's handlers as job workers. Each job resolves its client again (jobs carry only
 * the id) and loads the stored event inside the client's tenant transaction.
 */
import { isServable } from '../clients/client.schema.ts';
import { and, eq } from 'drizzle-orm';
import type { Deps } from '../deps.ts';
import { callEvents } from '../platform/db/schema.ts';
import type { WorkOptions } from '../platform/queue.ts';
import { sendMessage } from '../messages/message-send.job.ts';
import { messageSendJob } from '../messages/messages.service.ts';
import type { EventHandler, StoredEvent } from './event-handler.ts';
import { ALL_HANDLERS } from './router.ts';

export const DEFAULT_WORK_OPTIONS: WorkOptions = { concurrency: 8, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 };

async function loadEvent(deps: Deps, clientId: string, eventId: string): Promise<StoredEvent | undefined> {
  const [row] = await deps.tenancy.withTenant(clientId, (tx) =>
    tx
      .select()
      .from(callEvents)
      .where(and(eq(callEvents.clientId, clientId), eq(callEvents.id, eventId))),
  );
  return row ? { id: row.id, clientId: row.clientId, callId: row.callId, event: row.event, payload: row.payload as Record<string, unknown> } : undefined;
}

export async function runHandler(deps: Deps, handler: EventHandler, payload: { client_id: string; event_id: string }): Promise<'done' | 'skipped'> {
  const record = deps.registry.get(payload.client_id);
  if (!record) {
    // Not (yet) known to this instance, e.g. a config change still reaching it: retry later rather
    // than drop acknowledged work. A client removed for good ends in the dead-letter queue.
    throw new Error(`client ${payload.client_id} is not configured on this instance`);
  }
  if (record.status === 'disabled') {
    deps.logger.warn({ client_id: payload.client_id, job: handler.job.name }, 'job skipped: client disabled');
    return 'skipped';
  }
  if (!isServable(record)) {
    // Invalid configuration: retry later, the operator may fix the file meanwhile.
    throw new Error(`client ${payload.client_id} configuration is invalid`);
  }
  const event = await loadEvent(deps, record.id, payload.event_id);
  if (!event) throw new Error(`event ${payload.event_id} not found`);
  await handler.handle(record, event, deps);
  return 'done';
}

/** Every worker of the platform: the router's handlers and message sending. */
export async function startWorkers(deps: Deps, options: WorkOptions = DEFAULT_WORK_OPTIONS): Promise<void> {
  for (const handler of ALL_HANDLERS) {
    await deps.queue.work(
      handler.job,
      async (payload) => {
        try {
          const result = await runHandler(deps, handler, payload);
          deps.metrics.jobs.inc({ job: handler.job.name, client_id: payload.client_id, outcome: result === 'done' ? 'completed' : 'skipped' });
        } catch (error) {
          deps.metrics.jobs.inc({ job: handler.job.name, client_id: payload.client_id, outcome: 'failed' });
          throw error;
        }
      },
      options,
    );
  }
  await deps.queue.work(
    messageSendJob,
    async (payload, job) => {
      try {
        const final = job.retryCount >= messageSendJob.retryLimit;
        const outcome = await sendMessage(deps, payload.client_id, payload.message_id, { final });
        deps.metrics.jobs.inc({ job: messageSendJob.name, client_id: payload.client_id, outcome });
      } catch (error) {
        deps.metrics.jobs.inc({ job: messageSendJob.name, client_id: payload.client_id, outcome: 'failed' });
        throw error;
      }
    },
    options,
  );
}
