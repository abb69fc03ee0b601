/**
 * The composition root: builds every long-lived dependency once, in order, and closes them in
 * reverse. Nothing else constructs databases, Redis clients, registries or loggers.
 */
import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { createDbClientStore, type DbClientStore } from './admin/db-clients.service.ts';
import { createOperatorNotifier, DEFAULT_CLEAR_FOR_MS, type AlertingContext } from './alerts/operator-notifier.ts';
import { createClientRegistry, type ClientRegistry } from './clients/client-registry.ts';
import { syncClientCatalog } from './clients/clients.repo.ts';
import { catalogueJobs, routeSubscribers, type JobCatalogue } from './core/dispatch.ts';
import type { ClientAdapters, PublicUrlBuilder } from './core/jobs.ts';
import { createDomainEventFeed, createOutbox, type DomainEventFeed, type Outbox } from './core/outbox.ts';
import { createClientAdapters } from './integrations/client-adapters.ts';
import type { PlatformConfig } from './platform/config.ts';
import { publicBaseOf, publicUrls } from './platform/public-urls.ts';
import { openDatabase, type Database } from './platform/db/database.ts';
import { shareEmbeddedDatabase } from './platform/db/embedded-access.ts';
import { findSessionsRevokedAt } from './auth/auth.repo.ts';
import { createSessionRevocations, type SessionRevocations } from './auth/session-revocations.ts';
import { createTenancy, type Tenancy } from './platform/db/tenancy.ts';
import { createLogger, createSecretScrubber, type Logger, type SecretScrubber } from './platform/logging.ts';
import { createHealthCounters, type HealthCounters } from './platform/health-counters.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { createOutboundHttp, type OutboundHttp, type OutboundHttpOptions } from './platform/outbound-http.ts';
import { createCircuitBreakers, type ProviderContext } from './platform/provider-http.ts';
import { createJobQueue, type JobDefinition, type JobQueue } from './platform/queue.ts';
import { createSecretSealer, type SecretSealer } from './platform/secrets.ts';
import { createTracing, type Tracing } from './platform/tracing.ts';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './platform/rate-limit.ts';
import {
  createFallbackCache,
  createMemoryCache,
  createRedis,
  createRedisFallback,
  createRedisSignal,
  platformKey,
  withLocalFallback,
  type KeyValueCache,
  type Redis,
  type RedisFallback,
} from './platform/redis.ts';

export interface Deps {
  readonly config: PlatformConfig;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly scrubber: SecretScrubber;
  readonly database: Database;
  readonly tenancy: Tenancy;
  readonly redis: Redis | undefined;
  /** With Redis: routes its callers to process-local state while it is down (see RedisFallback). */
  readonly redisFallback: RedisFallback | undefined;
  readonly cache: KeyValueCache;
  /** Access tokens voided before their expiry (a user disabled, demoted or given a new password). */
  readonly sessions: SessionRevocations;
  readonly metrics: Metrics;
  readonly registry: ClientRegistry;
  /** Database-backed clients (admin API): loads them into the registry and announces changes. */
  readonly dbClients: DbClientStore;
  readonly queue: JobQueue;
  readonly rateLimiter: RateLimiter;
  /** What every provider adapter is given: fetch, circuit breakers, metrics. */
  readonly providers: ProviderContext;
  /** The domain event outbox: `emit` inside a tenant transaction; routed to subscribers by the catalogue. */
  readonly events: Outbox;
  /** In-process listeners of a client's new domain events (the dashboard's live view). */
  readonly eventFeed: DomainEventFeed;
  /** Each client's provider adapters, built once per configuration. */
  readonly adapters: ClientAdapters;
  readonly publicUrls: PublicUrlBuilder;
  /** Per-client counts the health detectors read (rejected signatures, calls at the concurrency cap). */
  readonly health: HealthCounters;
  /** Health alerts: operator notice channels (platform mail, Slack webhooks), policy, clock. */
  readonly alerting: AlertingContext;
  /** HTTP to tenant-chosen URLs (outbound webhooks) through the SSRF guard. */
  readonly outbound: OutboundHttp;
  /** Seals and opens stored secrets with ENCRYPTION_KEY. */
  readonly sealer: SecretSealer;
  /** OpenTelemetry spans (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set); flushed on close. */
  readonly tracing: Tracing;
  /** Recomputes the client gauges from the registry (called on reload and on scrape). */
  refreshClientMetrics(): void;
  close(): Promise<void>;
}

export interface DepsOptions {
  /**
   * The jobs and subscribers this process knows (core/router.ts JOB_CATALOGUE): passed in by the
   * process shell, so this file imports no job. Registered before anything can emit an event.
   */
  catalogue: JobCatalogue;
  /** Log destination (tests capture output). */
  logDestination?: DestinationStream;
  /** An already-open database (tests pass a copy of a migrated template). */
  database?: Database;
  /** Skip migrations (the database given is already migrated). */
  skipMigrations?: boolean;
  /** Outbound fetch (tests may wrap it). */
  fetch?: typeof fetch;
  /** Registry polling interval for hot reload (0 disables polling). */
  pollIntervalMs?: number;
  /** Watch the clients folder with fs.watch (default true). */
  watchClients?: boolean;
  defaultMetrics?: boolean;
  /** pg-boss's schema instead of QUEUE_SCHEMA (tests sharing a database keep their jobs apart). */
  queueSchema?: string;
  /**
   * Run the job queue's supervision passes here (default true). A process that runs no workers
   * (WORKERS_IN_PROCESS=false) passes false: the worker processes supervise.
   */
  superviseJobs?: boolean;
  /** Test seam: alert webhooks may reach these addresses (a local fake receiver). Never in production. */
  alertAddressAllowed?: (ip: string) => boolean;
  /** Test seam: a CA the alert webhooks trust (the fake receiver's self-signed certificate). */
  alertCa?: string;
  /** The alerts' clock (tests move it); default the wall clock. */
  alertClock?: () => Date;
  /** How long a problem must stay away before its alert resolves (default 10 minutes). */
  alertClearForMs?: number;
  /** Test seams of outbound HTTP (a loopback receiver with a self-signed certificate). */
  outbound?: OutboundHttpOptions;
  /** Test seam: span processors of its own (an in-memory exporter); any turns tracing on. */
  spanProcessors?: readonly SpanProcessor[];
}

/**
 * Brings the schema up to date and starts the job queue: the SQL migrations, then pg-boss's own
 * tables, the grants that let tenant transactions enqueue, and the job catalogue's queues, all
 * under the database's schema lock. Several processes starting at once (instances, the release
 * step `xlnc migrate`) take turns: the first applies, the others find it done. Returns how many
 * SQL migrations this call applied.
 */
export async function prepareSchema(
  database: Database,
  queue: JobQueue,
  jobs: readonly JobDefinition<{ client_id: string }>[],
  options: { skipMigrations?: boolean | undefined } = {},
): Promise<number> {
  return database.withSchemaLock(async () => {
    const applied = options.skipMigrations ? 0 : await database.migrate();
    await queue.start();
    await queue.register(jobs);
    return applied;
  });
}

export async function createDeps(config: PlatformConfig, options: DepsOptions): Promise<Deps> {
  const instanceId = randomUUID();
  const scrubber = createSecretScrubber();
  scrubber.add(config.jwtSecret);
  scrubber.add(config.jwtRefreshSecret);
  if (config.mail.provider === 'sendgrid') scrubber.add(config.mail.apiKey);
  for (const key of config.encryptionKeys) {
    scrubber.add(key.toString('hex'));
    scrubber.add(key.toString('base64'));
  }
  const logger = createLogger({
    level: config.logLevel,
    scrubber,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  if (config.generatedSecrets.length > 0) {
    logger.warn(
      { generated: config.generatedSecrets, file: config.generatedSecretsFile },
      `Development secrets ${config.generatedSecrets.join(', ')} were generated and kept in ${config.generatedSecretsFile ?? 'DATA_DIR'} (mode 0600); set them in the environment for production`,
    );
  } else if (config.developmentSecrets.length > 0) {
    logger.info(
      { secrets: config.developmentSecrets, file: config.generatedSecretsFile },
      `Development secrets read from ${config.generatedSecretsFile ?? 'DATA_DIR'}; set them in the environment for production`,
    );
  }

  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      await closer().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
    }
  };

  // Closed last (closers run in reverse): the queue's and the server's final spans are flushed.
  const tracing = createTracing(config.tracing, { ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}) });
  closers.push(() => tracing.shutdown());

  try {
    const database =
      options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, role: 'server' }));
    closers.push(() => database.close());
    const tenancy = createTenancy(database);

    let redis: Redis | undefined;
    let redisFallback: RedisFallback | undefined;
    if (config.redisUrl) {
      const client = createRedis(config.redisUrl, { failFast: true });
      redis = client;
      // Logs the outage once and recovers by itself (its error listener also keeps ioredis quiet).
      redisFallback = createRedisFallback(client, logger);
      closers.push(async () => {
        client.disconnect();
      });
    }
    const cache = redis && redisFallback ? createFallbackCache(redis, redisFallback) : createMemoryCache();
    const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    const rateLimiter =
      redis && redisFallback ? withLocalFallback(redisFallback, createRedisRateLimiter(redis), createMemoryRateLimiter()) : createMemoryRateLimiter();
    const providers: ProviderContext = {
      fetch: options.fetch ?? globalThis.fetch,
      breakers: createCircuitBreakers({ failureThreshold: 5, openMs: 30_000 }),
      metrics: { requests: metrics.providerRequests, duration: metrics.providerDuration },
    };

    const queue = createJobQueue(database, logger, options.queueSchema ?? config.queueSchema, { supervise: options.superviseJobs, tracing });
    closers.push(() => queue.stop());
    const applied = await prepareSchema(database, queue, catalogueJobs(options.catalogue), { skipMigrations: options.skipMigrations });
    if (applied > 0) logger.info({ migrations: applied }, 'database migrations applied');
    if (!options.database && database.pglite) {
      // Commands (`xlnc users create`, …) reach this process's embedded database through this share,
      // opened once the schema is prepared (commands wait for it).
      const share = await shareEmbeddedDatabase({
        pglite: database.pglite,
        dataDir: config.dataDir,
        onProblem: (message) => logger.warn(message),
      });
      closers.push(() => share.close());
      logger.debug({ port: share.port }, 'embedded database shared with xlnc commands on the loopback interface');
    }
    const events = createOutbox(queue);
    routeSubscribers(events, options.catalogue);
    const eventFeed = createDomainEventFeed({ tenancy, onError: (error) => logger.warn({ err: error }, 'domain event feed poll failed') });
    closers.push(async () => eventFeed.close());

    const registry = createClientRegistry({
      dir: config.clientsDir,
      env: config.env,
      encryptionKeys: [...config.encryptionKeys],
      strict: config.configStrict,
      logger,
      onSecret: (value) => scrubber.add(value),
      ...(redis ? { signal: createRedisSignal(redis, platformKey('clients-changed'), instanceId, redisFallback) } : {}),
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      ...(options.watchClients !== undefined ? { watch: options.watchClients } : {}),
    });

    const refreshClientMetrics = () => {
      const counts = registry.countsByStatus();
      for (const [status, n] of Object.entries(counts)) metrics.clientsByStatus.set({ status }, n);
      metrics.clientConfigErrors.reset();
      for (const record of registry.list()) {
        if (record.status === 'invalid') metrics.clientConfigErrors.set({ client_id: record.id }, 1);
      }
    };
    const syncCatalog = async () => {
      await syncClientCatalog(
        tenancy,
        registry.list().map((r) => ({
          id: r.id,
          name: r.config?.name ?? r.id,
          status: r.status,
          source: r.source,
          configHash: r.configHash,
          issues: r.issues.map((issue) => ({ path: issue.path, message: issue.message })),
        })),
        events,
      );
    };

    await registry.start();
    closers.push(() => registry.close());
    const dbClients = createDbClientStore({
      tenancy,
      registry,
      encryptionKeys: config.encryptionKeys,
      logger,
      onSecret: (value) => scrubber.add(value),
      ...(redis ? { signal: createRedisSignal(redis, platformKey('db-clients-changed'), instanceId, redisFallback) } : {}),
    });
    await dbClients.start();
    closers.push(() => dbClients.close());
    refreshClientMetrics();
    await syncCatalog();
    registry.onChange(() => {
      metrics.configReloads.inc();
      refreshClientMetrics();
      syncCatalog().catch((error: unknown) => logger.error({ err: error }, 'client catalogue sync failed'));
    });

    return {
      config,
      instanceId,
      logger,
      scrubber,
      database,
      tenancy,
      redis,
      redisFallback,
      cache,
      sessions: createSessionRevocations(cache, async (userId) => {
        const { exists, revokedAt } = await tenancy.withPlatform((tx) => findSessionsRevokedAt(tx, userId));
        return exists ? revokedAt : 'gone';
      }),
      metrics,
      registry,
      dbClients,
      queue,
      rateLimiter,
      providers,
      events,
      eventFeed,
      adapters: createClientAdapters({ tenancy, cache, providers, events }),
      publicUrls: publicUrls(publicBaseOf(config)),
      health: createHealthCounters(cache),
      alerting: {
        notifier: createOperatorNotifier({
          config: config.alerts,
          ...(options.alertAddressAllowed ? { allowAddress: options.alertAddressAllowed } : {}),
          ...(options.alertCa ? { ca: options.alertCa } : {}),
        }),
        policy: { reminderMs: config.alerts.reminderMinutes * 60_000, clearForMs: options.alertClearForMs ?? DEFAULT_CLEAR_FOR_MS },
        now: options.alertClock ?? (() => new Date()),
      },
      outbound: createOutboundHttp(options.outbound),
      sealer: createSecretSealer(config.encryptionKeys),
      tracing,
      refreshClientMetrics,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
