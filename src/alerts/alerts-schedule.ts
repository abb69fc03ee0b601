/**
 * The detectors' schedule: every `intervalMs`, one `alert.evaluate` job per client that is not
 * disabled, keyed by (client, interval number), so every instance running it enqueues each
 * evaluation once between them. The clock is injectable; the timer never keeps the process alive.
 */
import type { ClientRecord } from '../clients/client.schema.ts';
import type { Logger } from '../platform/logging.ts';
import type { JobQueue } from '../platform/queue.ts';
import { alertEvaluateJob } from './alerts.job.ts';

export const DEFAULT_ALERT_INTERVAL_MS = 2 * 60_000;

export interface AlertScheduleDeps {
  registry: { list(): readonly ClientRecord[] };
  queue: Pick<JobQueue, 'enqueue'>;
  logger: Pick<Logger, 'warn'>;
  now?: () => Date;
}

/** Enqueues this interval's evaluations; returns how many clients were due. */
export async function enqueueAlertEvaluations(deps: AlertScheduleDeps, intervalMs: number = DEFAULT_ALERT_INTERVAL_MS): Promise<number> {
  const interval = Math.floor((deps.now ?? (() => new Date()))().getTime() / intervalMs);
  let due = 0;
  for (const client of deps.registry.list()) {
    if (client.status === 'disabled') continue;
    due += 1;
    await deps.queue.enqueue(alertEvaluateJob, { client_id: client.id, interval }, { key: `${client.id}:${interval}` });
  }
  return due;
}

export function startAlertSchedule(deps: AlertScheduleDeps, intervalMs: number = DEFAULT_ALERT_INTERVAL_MS): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    enqueueAlertEvaluations(deps, intervalMs)
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'alert evaluations could not be enqueued'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
