/**
 * The one dispatch path of every job (router jobs, message sending, subscribers): the client named
 * in the payload is resolved and checked servable here, once, and the job's handler receives it
 * with a narrow context. main.ts and worker.ts hand the catalogue (router.ts) to createDeps, which
 * creates its queues (prepareSchema) and routes its subscribers before anything can emit, and
 * start the workers; nothing here knows which jobs exist.
 */
import type { AlertingContext } from '../alerts/operator-notifier.ts';
import type { ClientRecord } from '../clients/client.schema.ts';
import { isServable } from '../clients/client.schema.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import type { HealthCounters } from '../platform/health-counters.ts';
import type { Logger } from '../platform/logging.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { OutboundHttp } from '../platform/outbound-http.ts';
import type { JobQueue, WorkOptions } from '../platform/queue.ts';
import type { KeyValueCache } from '../platform/redis.ts';
import type { SecretSealer } from '../platform/secrets.ts';
import type { ClientAdapters, Job, JobAttempt, JobContext, JobOutcome, PublicUrlBuilder } from './jobs.ts';
import type { Outbox } from './outbox.ts';
import type { Subscriber } from './subscribers.ts';

export const DEFAULT_WORK_OPTIONS: WorkOptions = { concurrency: 8, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 };

/** Every job the platform runs, and the subscribers the outbox routes domain events to. */
export interface JobCatalogue {
  readonly jobs: readonly Job[];
  readonly subscribers: readonly Subscriber[];
}

/** What dispatch needs: the registry to resolve clients, the queue, and what handlers get. */
export interface DispatchDeps {
  readonly registry: { get(id: string): ClientRecord | undefined };
  readonly queue: JobQueue;
  readonly metrics: Pick<Metrics, 'jobs'>;
  readonly logger: Logger;
  readonly tenancy: Tenancy;
  readonly events: Outbox;
  readonly adapters: ClientAdapters;
  readonly publicUrls: PublicUrlBuilder;
  readonly cache: KeyValueCache;
  readonly health: HealthCounters;
  readonly alerting: AlertingContext;
  readonly outbound: OutboundHttp;
  readonly sealer: SecretSealer;
  /** Default: the system clock. */
  readonly clock?: () => Date;
}

/** Every job of the catalogue, subscribers' included: the queues to create. */
export function catalogueJobs(catalogue: JobCatalogue): Job[] {
  return [...catalogue.jobs, ...catalogue.subscribers.map((s) => s.job)];
}

/** Gives the outbox the catalogue's subscribers (createDeps, at startup; the queues are created by prepareSchema). */
export function routeSubscribers(events: Outbox, catalogue: JobCatalogue): void {
  events.route(catalogue.subscribers.map((s) => ({ events: s.events, job: s.job })));
}

/**
 * Runs one job for its client. A client this instance does not know (yet) or whose configuration
 * is invalid fails the attempt, so acknowledged work is retried rather than dropped (the operator
 * may fix the file meanwhile; a client removed for good ends in the dead-letter queue); a disabled
 * client's job is skipped.
 */
export async function runJob<TPayload extends { client_id: string }>(
  deps: DispatchDeps,
  job: Job<TPayload>,
  payload: TPayload,
  attempt: JobAttempt,
): Promise<JobOutcome> {
  const record = deps.registry.get(payload.client_id);
  if (!record) throw new Error(`client ${payload.client_id} is not configured on this instance`);
  const ctx: JobContext = {
    tenancy: deps.tenancy,
    queue: deps.queue,
    events: deps.events,
    adapters: deps.adapters,
    publicUrls: deps.publicUrls,
    cache: deps.cache,
    logger: deps.logger,
    health: deps.health,
    alerting: deps.alerting,
    outbound: deps.outbound,
    sealer: deps.sealer,
    clock: deps.clock ?? (() => new Date()),
    attempt,
  };
  if (!isServable(record)) {
    if (job.handleUnservable) return (await job.handleUnservable(record, payload, ctx)) ?? 'completed';
    if (record.status === 'disabled') {
      deps.logger.warn({ client_id: payload.client_id, job: job.name }, 'job skipped: client disabled');
      return 'skipped';
    }
    throw new Error(`client ${payload.client_id} configuration is invalid`);
  }
  return (await job.handle(record, payload, ctx)) ?? 'completed';
}

/** Starts a worker for every job of the catalogue. */
export async function startWorkers(deps: DispatchDeps, catalogue: JobCatalogue, options: WorkOptions = DEFAULT_WORK_OPTIONS): Promise<void> {
  for (const job of catalogueJobs(catalogue)) {
    await deps.queue.work(
      job,
      async (payload, run) => {
        try {
          const outcome = await runJob(deps, job, payload, { jobId: run.id, retryCount: run.retryCount, final: run.retryCount >= job.retryLimit });
          deps.metrics.jobs.inc({ job: job.name, client_id: payload.client_id, outcome });
        } catch (error) {
          deps.metrics.jobs.inc({ job: job.name, client_id: payload.client_id, outcome: 'failed' });
          throw error;
        }
      },
      options,
    );
  }
}
