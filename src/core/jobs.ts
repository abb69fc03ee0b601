/**
 * The one shape of a job: name, zod payload, retry policy and an idempotent handler, together in
 * one object. Every job runs through dispatch.ts, which resolves and checks the client once and
 * hands the handler that client, the parsed payload and a narrow context (below): never the
 * composition root.
 */
import type { AlertingContext } from '../alerts/operator-notifier.ts';
import type { ClientRecord, ServableClient } from '../clients/client.schema.ts';
import type { CalendarService } from '../integrations/calendar/calendar.service.ts';
import type { EmailSender } from '../integrations/email/email.ts';
import type { SmsSender } from '../integrations/sms/sms.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import type { HealthCounters } from '../platform/health-counters.ts';
import type { Logger } from '../platform/logging.ts';
import type { OutboundHttp } from '../platform/outbound-http.ts';
import { defineJob as defineQueueJob, type JobDefinition, type JobQueue } from '../platform/queue.ts';
import type { publicUrls } from '../platform/public-urls.ts';
import type { KeyValueCache } from '../platform/redis.ts';
import type { SecretSealer } from '../platform/secrets.ts';
import type { DomainEventEmitter } from './domain-events.ts';

/** The client's provider adapters, built once per client and configuration (see client-adapters.ts). */
export interface ClientAdapters {
  calendarFor(client: ServableClient): CalendarService;
  smsFor(client: ServableClient): SmsSender;
  emailFor(client: ServableClient): EmailSender;
}

/** Public URLs handed to providers (built by platform/public-urls.ts). */
export type PublicUrlBuilder = Pick<ReturnType<typeof publicUrls>, 'twilioStatusCallback'>;

/** Which attempt of the job this is. */
export interface JobAttempt {
  jobId: string;
  /** Retries before this one (0 on the first run). */
  retryCount: number;
  /** The last attempt: a handler records a failure instead of leaving work half-open. */
  final: boolean;
}

/**
 * What a job handler may use. A handler declares the part it needs (`Pick<JobContext, …>`), so its
 * signature says what it touches.
 */
export interface JobContext {
  readonly tenancy: Tenancy;
  readonly queue: Pick<JobQueue, 'enqueue' | 'hasEarlierJob' | 'deadLetters'>;
  readonly events: DomainEventEmitter;
  readonly adapters: ClientAdapters;
  readonly publicUrls: PublicUrlBuilder;
  /** Shared cache (Redis when configured): integration health, slot caches. */
  readonly cache: KeyValueCache;
  readonly logger: Logger;
  /** Per-client counts no table keeps (rejected signatures, calls at the concurrency cap). */
  readonly health: HealthCounters;
  /** Health alerts: operator notice channels, policy, clock. */
  readonly alerting: AlertingContext;
  /** HTTP to tenant-chosen URLs through the SSRF guard (outbound webhooks). */
  readonly outbound: OutboundHttp;
  /** Stored secrets sealed with ENCRYPTION_KEY (webhook signing secrets). */
  readonly sealer: SecretSealer;
  /** Now: injectable so time-based rules (24 h of failures) are testable. */
  readonly clock: () => Date;
  readonly attempt: JobAttempt;
}

/** A label for the jobs metric (`completed` unless the handler says more: sent, skipped, …). */
export type JobOutcome = string;

export interface Job<TPayload extends { client_id: string } = { client_id: string }> extends JobDefinition<TPayload> {
  handle(client: ServableClient, payload: TPayload, ctx: JobContext): Promise<JobOutcome | void>;
  /**
   * For work about a client that cannot be served (an alert that its configuration is invalid):
   * called instead of failing the attempt (invalid) or skipping it (disabled). Without it, such a
   * job waits for the client to be fixed.
   */
  handleUnservable?(client: ClientRecord, payload: TPayload, ctx: JobContext): Promise<JobOutcome | void>;
}

export function defineJob<TPayload extends { client_id: string }>(
  definition: Pick<JobDefinition<TPayload>, 'name' | 'payload'> & Partial<JobDefinition<TPayload>> & Pick<Job<TPayload>, 'handle' | 'handleUnservable'>,
): Job<TPayload> {
  const { handle, handleUnservable, ...rest } = definition;
  return { ...defineQueueJob(rest), handle, ...(handleUnservable ? { handleUnservable } : {}) };
}
