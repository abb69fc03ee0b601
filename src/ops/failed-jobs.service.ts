/**
 * Failed jobs: what the dead-letter queue holds (a job that used up its retries, or failed
 * permanently), shown to the operator with its last error scrubbed of secrets, and replayed on
 * request. Replay is pg-boss's redrive: the job goes back to its own queue as a fresh job, and its
 * handler's idempotency (a message is claimed before it is sent, and a sent one is skipped) keeps
 * a replay from repeating an effect that already happened.
 */
import type { SecretScrubber } from '../platform/logging.ts';
import type { DeadLetterJob, JobQueue } from '../platform/queue.ts';

export interface FailedJob {
  id: string;
  queue: string;
  client_id: string;
  attempts: number;
  failed_at: string;
  created_at: string;
  /** The last error, secrets removed, at most 500 characters. */
  last_error: string;
  /** What the job was about (ids only: message, call, event). */
  subject: Record<string, string>;
}

const MAX_ERROR_CHARS = 500;
/** Payload fields that name what a job was about; other fields are not shown. */
const SUBJECT_FIELDS = ['message_id', 'call_id', 'event_id', 'type', 'alert_id', 'notice', 'channel'];

/**
 * Credentials that may appear in a provider's or library's error text whatever the scrubber knows:
 * bearer and basic tokens, SendGrid keys, key=value secrets, credentials in URLs.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  [/\bSG\.[A-Za-z0-9_-]{8,}(\.[A-Za-z0-9_-]+)?/g, '[REDACTED]'],
  [/\b(api[_-]?key|auth[_-]?token|token|secret|password|refresh_token|client_secret|authorization)(["']?\s*[:=]\s*["']?)[^\s"'&,;]{4,}/gi, '$1$2[REDACTED]'],
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1[REDACTED]@'],
];

export function scrubErrorText(text: string, scrubber?: Pick<SecretScrubber, 'scrub'>): string {
  let out = scrubber ? scrubber.scrub(text) : text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS)}…` : out;
}

export function describeFailedJob(job: DeadLetterJob, scrubber?: Pick<SecretScrubber, 'scrub'>): FailedJob {
  const subject: Record<string, string> = {};
  for (const field of SUBJECT_FIELDS) {
    const value = job.data[field];
    if (typeof value === 'string' || typeof value === 'number') subject[field] = String(value);
  }
  return {
    id: job.id,
    queue: job.queue,
    client_id: job.clientId,
    attempts: job.attempts,
    failed_at: job.failedAt.toISOString(),
    created_at: job.createdAt.toISOString(),
    last_error: scrubErrorText(job.error, scrubber),
    subject,
  };
}

export async function listFailedJobs(queue: Pick<JobQueue, 'deadLetters'>, options: { clientId?: string; limit?: number }, scrubber?: Pick<SecretScrubber, 'scrub'>): Promise<FailedJob[]> {
  const jobs = await queue.deadLetters({ ...(options.clientId !== undefined ? { clientId: options.clientId } : {}), limit: options.limit ?? 200 });
  return jobs.map((job) => describeFailedJob(job, scrubber));
}

/**
 * Replays failed jobs by id; with `clientId`, only that client's (an id of another client's job
 * is reported as not found). Returns the ids replayed and those not (already replayed, or never failed).
 */
export async function retryFailedJobs(
  queue: Pick<JobQueue, 'deadLetters' | 'retryDeadLetters'>,
  ids: readonly string[],
  options: { clientId?: string } = {},
): Promise<{ retried: string[]; notFound: string[] }> {
  const waiting = new Set((await queue.deadLetters({ ...(options.clientId !== undefined ? { clientId: options.clientId } : {}), limit: 100_000 })).map((job) => job.id));
  const found = ids.filter((id) => waiting.has(id));
  const moved = found.length > 0 ? await queue.retryDeadLetters({ ids: found }) : 0;
  let retried = found;
  if (moved < found.length) {
    // Someone replayed some of them between the read and the redrive: those moved once, by them.
    const still = new Set((await queue.deadLetters({ limit: 100_000 })).map((job) => job.id));
    retried = found.filter((id) => !still.has(id)).slice(0, moved);
  }
  return { retried, notFound: ids.filter((id) => !retried.includes(id)) };
}
