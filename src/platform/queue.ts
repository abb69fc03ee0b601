/**
 * Durable jobs on pg-boss, in the same database as the business data (embedded or PostgreSQL).
 * A job is a definition (name, zod payload, retry policy) plus an idempotent handler. Jobs are
 * enqueued inside the caller's transaction, so an event that is acknowledged always has its jobs.
 *
 * Per-client fairness: every job carries its client as pg-boss's group, and workers cap how many
 * jobs one group may run at once, so one client's burst cannot occupy every worker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, PgBoss, type JobResult, type JobWithMetadata } from 'pg-boss';
import type { z } from 'zod';
import { DEFAULT_QUEUE_SCHEMA, QUEUE_SCHEMA_PATTERN } from './config.ts';
import type { Database, SqlStatement, Tx } from './db/database.ts';
import { isDatabaseUnavailable } from './errors.ts';
import { TENANT_ROLE } from './db/tenancy.ts';
import type { Logger } from './logging.ts';
import { currentTraceparent, parseTraceparent, recordFailure, SpanKind, tracingOff, withSpan, type Tracing } from './tracing.ts';

export interface JobDefinition<TPayload extends { client_id: string }> {
  readonly name: string;
  readonly payload: z.ZodType<TPayload>;
  /** Attempts after the first, with exponential backoff from retryDelaySeconds. */
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  readonly retryDelayMaxSeconds: number;
  readonly expireInSeconds: number;
}

export function defineJob<TPayload extends { client_id: string }>(
  definition: Pick<JobDefinition<TPayload>, 'name' | 'payload'> & Partial<JobDefinition<TPayload>>,
): JobDefinition<TPayload> {
  return {
    retryLimit: 8,
    retryDelaySeconds: 2,
    retryDelayMaxSeconds: 600,
    expireInSeconds: 120,
    ...definition,
  };
}

/** Thrown by a handler when retrying cannot help: the job goes straight to the dead-letter queue. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/**
 * Thrown by a handler that must wait for other work (an ordered subscriber whose earlier event is
 * still pending): retried like any failure, logged quietly.
 */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

export const DEAD_LETTER_QUEUE = 'dead-letter';

export interface EnqueueOptions {
  /** The business transaction to enqueue in (commits or rolls back with it). */
  tx?: Tx;
  /**
   * Idempotency key: the same key never creates a second job (deterministic job id). Build it
   * from (client, call, kind).
   */
  key?: string;
  startAfterSeconds?: number;
  /** Do not run before this time (e.g. the end of quiet hours). */
  startAfter?: Date;
}

export type JobHandler<TPayload> = (payload: TPayload, job: { id: string; retryCount: number }) => Promise<void>;

export interface WorkOptions {
  /** Jobs of this queue running at once in this process. */
  concurrency?: number;
  /**
   * Jobs of one client running at once in this process: the fairness cap. Tracked in memory
   * (pg-boss `localGroupConcurrency`): the database-tracked variant made every fetch slow under a
   * 10,000-job burst. With N worker processes a client may use N × this many slots.
   */
  perClientConcurrency?: number;
  pollingIntervalSeconds?: number;
}

export interface JobQueue {
  start(): Promise<void>;
  register(definitions: readonly JobDefinition<{ client_id: string }>[]): Promise<void>;
  enqueue<TPayload extends { client_id: string }>(
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options?: EnqueueOptions,
  ): Promise<string | null>;
  /**
   * The statement that enqueues this job, for a caller that runs it in its own transaction (see
   * Database.batch). pg-boss writes the SQL; nothing is sent here. The job id is the key's (or a
   * fresh one), and pg-boss inserts with ON CONFLICT DO NOTHING, so a statement for a key that
   * already has a job changes nothing.
   */
  enqueueStatement<TPayload extends { client_id: string }>(
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options?: Omit<EnqueueOptions, 'tx'>,
  ): Promise<SqlStatement>;
  work<TPayload extends { client_id: string }>(
    definition: JobDefinition<TPayload>,
    handler: JobHandler<TPayload>,
    options?: WorkOptions,
  ): Promise<void>;
  /**
   * Whether this queue holds an unfinished job (created, retry or active) of this client whose
   * payload's `seq` is below `seq`: what an ordered consumer waits for.
   */
  hasEarlierJob<TPayload extends { client_id: string; seq: number }>(definition: JobDefinition<TPayload>, clientId: string, seq: number): Promise<boolean>;
  /**
   * Jobs that exhausted their retries (or failed permanently) and wait in the dead-letter queue,
   * oldest first: what failed, for whom, its last error and how many attempts it had.
   */
  deadLetters(options?: { clientId?: string; limit?: number }): Promise<DeadLetterJob[]>;
  /**
   * Moves dead-lettered jobs back to their own queue as fresh jobs (pg-boss's redrive): by id, or
   * every one (of a client). Returns how many went back. The handler's own idempotency keeps a
   * replay from repeating an effect that already happened.
   */
  retryDeadLetters(selection: { ids: readonly string[] } | { all: true; clientId?: string }): Promise<number>;
  /** Jobs per queue, client and state: created (due), scheduled (to start later), retry, active. */
  depth(): Promise<{ queue: string; client_id: string; state: string; count: number }[]>;
  stop(): Promise<void>;
  readonly boss: PgBoss;
}

/** A job waiting in the dead-letter queue (ids are the dead-letter copy's, what retry takes). */
export interface DeadLetterJob {
  id: string;
  /** The job's own queue (its name: `message.send`, `subscriber.…`). */
  queue: string;
  clientId: string;
  data: Record<string, unknown>;
  /** The last attempt's error as the handler reported it (not yet scrubbed: callers scrub). */
  error: string;
  /** Attempts made: the first run plus its retries. */
  attempts: number;
  /** When it was dead-lettered. */
  failedAt: Date;
  /** When the original job was created. */
  createdAt: Date;
}

/** A UUID derived from the idempotency key, so pg-boss's primary key rejects a second job. */
export function jobIdForKey(name: string, key: string): string {
  const hex = createHash('sha256').update(`${name}\u0000${key}`).digest('hex');
  // Shape it as an RFC 4122 version-8 ("custom") UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A worker beats for each job it runs (every half of this); a job whose beats stop (its process
 * died) is failed and retried at the next supervision pass, instead of staying claimed until it
 * expires. pg-boss's minimum.
 */
const JOB_HEARTBEAT_SECONDS = 10;

/**
 * Supervision (stale heartbeats, expired jobs) every 30 s, not every minute: a job a killed worker
 * held runs again within ~45 s. pg-boss refreshes its queue statistics in the same pass, a count
 * over every waiting job (~90 ms per 20,000 here), so a shorter pass taxes a backlog more.
 */
const BOSS_OPTIONS = { schedule: false, superviseIntervalSeconds: 30, monitorIntervalSeconds: 30 } as const;

/** Jobs a worker claims per fetch, and runs side by side. */
const JOBS_PER_FETCH = 2;

/**
 * `schema`: where pg-boss keeps its tables (default `pgboss`). Every instance of one deployment
 * must use the same; a test sharing a database with other tests can use its own, so other test
 * apps' workers never fetch its jobs. `supervise` (default true): this process runs the
 * supervision passes (dead workers' jobs, expiry, queue statistics). Processes that run workers do;
 * an API-only process enqueues and leaves them to the workers, so its request path never shares
 * the database with a count over every waiting job.
 */
/**
 * Where a job keeps the trace it was enqueued in (the W3C traceparent of its PRODUCER span), beside
 * its payload: the run continues that trace. Absent when tracing is off. Stripped before the
 * payload is parsed, so no job schema sees it.
 */
export const JOB_TRACEPARENT_FIELD = 'traceparent';

/** The payload as stored: with the enqueuing span's traceparent when the caller is traced. */
async function tracedPayload<T extends { client_id: string }>(name: string, data: T): Promise<T> {
  return withSpan(`enqueue ${name}`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'pg-boss', 'messaging.destination.name': name } }, async () => {
    const traceparent = currentTraceparent();
    return traceparent === undefined ? data : { ...data, [JOB_TRACEPARENT_FIELD]: traceparent };
  });
}

export function createJobQueue(
  database: Database,
  logger: Logger,
  schema: string = DEFAULT_QUEUE_SCHEMA,
  options: { supervise?: boolean | undefined; tracing?: Tracing } = {},
): JobQueue {
  const tracing = options.tracing ?? tracingOff;
  if (!QUEUE_SCHEMA_PATTERN.test(schema)) throw new Error(`Invalid job queue schema name: ${schema}`);
  const bossOptions = { ...BOSS_OPTIONS, supervise: options.supervise ?? true, schema };
  const boss =
    database.kind === 'pglite'
      ? new PgBoss({ db: fromPglite(database.pglite!), backend: 'pglite', ...bossOptions })
      : new PgBoss({ db: database.executor, ...bossOptions });
  // While the database is away every worker's poll fails: a short warning each, no stack; pg-boss retries by itself.
  boss.on('error', (error: Error) =>
    isDatabaseUnavailable(error) ? logger.warn({ reason: error.message }, 'job queue: database unavailable') : logger.error({ err: error }, 'job queue error'),
  );

  const registered = new Set<string>();

  function sendOptions(
    definition: JobDefinition<{ client_id: string }>,
    data: { client_id: string },
    options: EnqueueOptions,
  ) {
    return {
      group: { id: data.client_id },
      heartbeatSeconds: JOB_HEARTBEAT_SECONDS,
      ...(options.key ? { id: jobIdForKey(definition.name, options.key) } : {}),
      ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
    };
  }

  return {
    boss,
    // Installs or upgrades pg-boss's schema and grants: callers hold the schema lock (prepareSchema
    // in deps.ts), since two processes doing this at once fail on each other's DDL and GRANTs.
    async start() {
      await boss.start();
      // Tenant transactions run as the non-owner role and enqueue jobs: let that role insert them.
      for (const statement of [
        `GRANT USAGE ON SCHEMA ${schema} TO ${TENANT_ROLE}`,
        `GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA ${schema} TO ${TENANT_ROLE}`,
        `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${TENANT_ROLE}`,
        `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${TENANT_ROLE}`,
        `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE ON TABLES TO ${TENANT_ROLE}`,
      ]) {
        await database.db.execute(sql.raw(statement));
      }
      if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) await boss.createQueue(DEAD_LETTER_QUEUE);
    },

    async register(definitions) {
      for (const definition of definitions) {
        const options = {
          retryLimit: definition.retryLimit,
          retryDelay: definition.retryDelaySeconds,
          retryBackoff: true,
          retryDelayMax: definition.retryDelayMaxSeconds,
          expireInSeconds: definition.expireInSeconds,
          deadLetter: DEAD_LETTER_QUEUE,
        };
        if (await boss.getQueue(definition.name)) await boss.updateQueue(definition.name, options);
        else await boss.createQueue(definition.name, options);
        registered.add(definition.name);
      }
    },

    async enqueue(definition, payload, options = {}) {
      if (!registered.has(definition.name)) throw new Error(`Job ${definition.name} is not registered`);
      const data = definition.payload.parse(payload);
      return boss.send(definition.name, await tracedPayload(definition.name, data), {
        ...sendOptions(definition, data, options),
        ...(options.tx ? { db: fromDrizzle(options.tx as unknown as Parameters<typeof fromDrizzle>[0], sql) } : {}),
      });
    },

    async enqueueStatement(definition, payload, options = {}) {
      if (!registered.has(definition.name)) throw new Error(`Job ${definition.name} is not registered`);
      const data = definition.payload.parse(payload);
      const id = options.key ? jobIdForKey(definition.name, options.key) : randomUUID();
      let captured: SqlStatement | undefined;
      // pg-boss's `db` seam: record the statement instead of running it, and answer as the insert would.
      const recorder = {
        executeSql: async (text: string, values?: unknown[]) => {
          captured = { text, params: values ?? [] };
          return { rows: [{ id }] };
        },
      };
      await boss.send(definition.name, await tracedPayload(definition.name, data), { ...sendOptions(definition, data, options), id, db: recorder });
      if (!captured) throw new Error(`pg-boss wrote no statement for job ${definition.name}`);
      return captured;
    },

    async work(definition, handler, options = {}) {
      const runOne = async (job: JobWithMetadata<{ client_id: string }>): Promise<JobResult> => {
        const { [JOB_TRACEPARENT_FIELD]: traceparent, ...data } = job.data as { client_id: string; [JOB_TRACEPARENT_FIELD]?: unknown };
        const parsed = definition.payload.safeParse(data);
        if (!parsed.success) {
          logger.error({ job: definition.name, job_id: job.id }, 'job payload failed validation; dead-lettered');
          return { id: job.id, status: 'deadletter', output: { error: 'invalid payload' } };
        }
        const clientId = parsed.data.client_id;
        const attributes = { 'messaging.system': 'pg-boss', 'messaging.destination.name': definition.name, 'xlnc.job.retry_count': job.retryCount };
        return tracing.inSpan(`job ${definition.name}`, { kind: SpanKind.CONSUMER, clientId, parent: parseTraceparent(traceparent), attributes }, async (span) => {
          try {
            await handler(parsed.data, { id: job.id, retryCount: job.retryCount });
            span.setAttribute('xlnc.job.outcome', 'completed');
            return { id: job.id, status: 'completed' };
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            const permanent = error instanceof PermanentJobError;
            logger[error instanceof RetryLaterError ? 'debug' : 'warn'](
              { job: definition.name, job_id: job.id, client_id: clientId, retry: job.retryCount, permanent, err: message },
              error instanceof RetryLaterError ? 'job waits' : 'job failed',
            );
            span.setAttribute('xlnc.job.outcome', error instanceof RetryLaterError ? 'waits' : permanent ? 'deadletter' : 'failed');
            if (!(error instanceof RetryLaterError)) recordFailure(span, error);
            return { id: job.id, status: permanent ? 'deadletter' : 'failed', output: { error: message } };
          }
        });
      };
      // Workers fetch JOBS_PER_FETCH jobs and run them side by side, and fetch again at once while
      // fetches come back full (pg-boss's burstWhenBatchFull); a short fetch means the backlog is
      // gone, and the worker goes back to polling. At one job per fetch a pg-boss worker waits out
      // the polling interval after every job (its other burst trigger keys on a queue count
      // refreshed once a minute): 4 workers at 0.5 s ran 8 jobs a second, and while workers idle
      // between polls a busy client seldom fills its slots, so the fairness cap rarely applied.
      const concurrency = options.concurrency ?? 4;
      const workers = Math.max(1, Math.ceil(concurrency / JOBS_PER_FETCH));
      await boss.work(
        definition.name,
        {
          batchSize: concurrency >= JOBS_PER_FETCH ? JOBS_PER_FETCH : 1,
          burstWhenBatchFull: true,
          localConcurrency: workers,
          // Counted in jobs; pg-boss bounds it by the worker count.
          localGroupConcurrency: Math.min(options.perClientConcurrency ?? 2, workers),
          pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5,
          includeMetadata: true,
          perJobResults: true,
        },
        (jobs: JobWithMetadata<{ client_id: string }>[]): Promise<JobResult[]> => Promise.all(jobs.map(runOne)),
      );
    },

    async hasEarlierJob(definition, clientId, seq) {
      const result = (await database.executor.executeSql(
        `select exists (select 1 from ${schema}.job
            where name = $1 and group_id = $2 and state in ('created', 'retry', 'active') and (data->>'seq')::bigint < $3) as earlier`,
        [definition.name, clientId, seq],
      )) as { rows: { earlier: boolean }[] };
      return result.rows[0]?.earlier ?? false;
    },

    async deadLetters(options = {}) {
      // A database no worker has prepared yet has no dead-letter queue, and so no failed job.
      if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) return [];
      const jobs = await boss.findJobs<Record<string, unknown>>(DEAD_LETTER_QUEUE, {
        queued: true,
        limit: Math.min(Math.max(options.limit ?? 1000, 1), 100_000),
        ...(options.clientId !== undefined ? { data: { client_id: options.clientId } } : {}),
      });
      return jobs.map((job) => {
        const output = (job.sourceOutput ?? job.output) as { error?: unknown; message?: unknown } | null;
        const error = typeof output?.error === 'string' ? output.error : typeof output?.message === 'string' ? output.message : JSON.stringify(output ?? {});
        return {
          id: job.id,
          queue: job.sourceName ?? 'unknown',
          clientId: typeof job.data.client_id === 'string' ? job.data.client_id : (job.groupId ?? ''),
          data: job.data,
          error,
          attempts: (job.sourceRetryCount ?? job.retryCount) + 1,
          failedAt: new Date(job.createdOn),
          createdAt: new Date(job.sourceCreatedOn ?? job.createdOn),
        };
      });
    },

    async retryDeadLetters(selection) {
      if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) return 0;
      if ('ids' in selection) {
        if (selection.ids.length === 0) return 0;
        return boss.redrive(DEAD_LETTER_QUEUE, { ids: [...selection.ids], limit: selection.ids.length });
      }
      let moved = 0;
      // Bounded batches, and only jobs dead-lettered before now: a job failing again meanwhile waits for the next call.
      const createdBefore = new Date();
      for (;;) {
        const batch = await boss.redrive(DEAD_LETTER_QUEUE, {
          createdBefore,
          limit: 500,
          ...(selection.clientId !== undefined ? { data: { client_id: selection.clientId } } : {}),
        });
        moved += batch;
        if (batch < 500) return moved;
      }
    },

    async depth() {
      const rows = (await database.executor.executeSql(
        // A job created to start later (a delayed fallback, quiet hours) is "scheduled", not backlog.
        `select name as queue, coalesce(group_id, '') as client_id,
                case when state = 'created' and start_after > now() then 'scheduled' else state::text end as state,
                count(*)::int as count
           from ${schema}.job where state in ('created', 'retry', 'active') group by 1, 2, 3`,
      )) as { rows: { queue: string; client_id: string; state: string; count: number }[] };
      return rows.rows;
    },

    async stop() {
      await boss.stop({ graceful: true, timeout: 5000 });
    },
  };
}
