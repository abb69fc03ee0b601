/**
 * The health detectors: each looks at one client at one moment and says whether its problem is
 * there (firing, with what was seen and what to do), gone (clear), or cannot be told now
 * (unknown: outside business hours, or between the open and clear thresholds, which is the
 * hysteresis that keeps a borderline figure from flapping). alerts.service.ts turns what they say
 * into incidents and notices.
 */
import type { ClientRecord, ServableClient } from '../clients/client.schema.ts';
import { isServable } from '../clients/client.schema.ts';
import { isOpenAt } from '../functions/business-hours.ts';
import type { HealthSignal } from '../platform/health-counters.ts';
import type { DeadLetterJob } from '../platform/queue.ts';

export const ALERT_KINDS = ['no_events', 'signature_failures', 'provider_credentials', 'messages_failing', 'dead_jobs', 'concurrency_cap', 'config_invalid', 'webhook_disabled'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** Each kind in words: the notices' subject lines and the console (the alert API sends it as `label`). */
export const ALERT_KIND_LABELS: Record<AlertKind, string> = {
  no_events: 'No calls during business hours',
  signature_failures: 'Webhook signatures failing',
  provider_credentials: 'Provider credentials refused',
  messages_failing: 'Messages failing',
  dead_jobs: 'Jobs gave up',
  concurrency_cap: 'Concurrency cap hit',
  config_invalid: 'Configuration invalid',
  webhook_disabled: 'Outbound webhook switched off',
};
/** A stored kind in words; a kind this version does not know (an older row) reads as its code. */
export const alertKindLabel = (kind: string): string => (ALERT_KIND_LABELS as Partial<Record<string, string>>)[kind] ?? kind;
export type AlertSeverity = 'critical' | 'warning';

export type Observation =
  | { status: 'firing'; severity: AlertSeverity; summary: string; action: string; details: Record<string, unknown> }
  | { status: 'clear' }
  | { status: 'unknown' };

/** What a detector may read about the client (health-signals.repo.ts, the queue, the health counters). */
export interface HealthReader {
  lastCallAt(): Promise<Date | undefined>;
  callTimesSince(since: Date): Promise<Date[]>;
  messageOutcomes(from: Date, to: Date): Promise<{ total: number; bad: number }>;
  brokenIntegrations(): Promise<{ capability: string; provider: string; detail: string | null }[]>;
  deadJobs(): Promise<DeadLetterJob[]>;
  counter(signal: HealthSignal, windowMs: number): Promise<number>;
  /** Outbound webhook subscriptions switched off after 24 h of failed deliveries. */
  failureDisabledWebhooks(): Promise<{ id: string; url: string; failingSince: Date; disabledAt: Date | null }[]>;
}

export interface Detector {
  readonly kind: AlertKind;
  /** Whether it can judge a client whose configuration is invalid (only config_invalid can). */
  readonly needsConfig: boolean;
  evaluate(client: ClientRecord, now: Date, read: HealthReader): Promise<Observation>;
}

const MINUTE = 60_000;
const CLEAR: Observation = { status: 'clear' };
const UNKNOWN: Observation = { status: 'unknown' };

/** The call history the no-events default is learned from, and how much of it is needed. */
export const NO_EVENTS_HISTORY_DAYS = 14;
export const NO_EVENTS_MIN_CALLS = 10;
/**
 * The default threshold is this many average gaps between business-hours calls: with calls
 * arriving at random at the usual rate, a silence that long happens by chance about e^-5 ≈ 0.7%
 * of the time, so an alert is almost always a real break (number unbound, webhook URL wrong).
 */
const NO_EVENTS_GAP_FACTOR = 5;
const NO_EVENTS_MIN_MINUTES = 30;
const NO_EVENTS_MAX_MINUTES = 24 * 60;
const SLOT_MINUTES = 5;

/** Business-hours minutes in [from, to), counted in 5-minute slots. */
function businessMinutesBetween(client: ServableClient, from: Date, to: Date, cap = Infinity): number {
  let minutes = 0;
  for (let t = to.getTime() - SLOT_MINUTES * MINUTE; t >= from.getTime() && minutes < cap; t -= SLOT_MINUTES * MINUTE) {
    if (isOpenAt(client.config, new Date(t))) minutes += SLOT_MINUTES;
  }
  return minutes;
}

/**
 * The client's no-events threshold in minutes: its configured `alerts.no_events_minutes`, else
 * learned from its last 14 days of calls; undefined when it has too few calls to tell quiet from broken.
 */
export async function noEventsThresholdMinutes(client: ServableClient, now: Date, read: Pick<HealthReader, 'callTimesSince'>): Promise<number | undefined> {
  if (client.config.alerts.no_events_minutes !== undefined) return client.config.alerts.no_events_minutes;
  const since = new Date(now.getTime() - NO_EVENTS_HISTORY_DAYS * 24 * 60 * MINUTE);
  const times = await read.callTimesSince(since);
  const inHours = times.filter((t) => isOpenAt(client.config, t)).length;
  if (inHours < NO_EVENTS_MIN_CALLS) return undefined;
  const openMinutes = businessMinutesBetween(client, since, now);
  const gap = openMinutes / inHours;
  return Math.round(Math.min(NO_EVENTS_MAX_MINUTES, Math.max(NO_EVENTS_MIN_MINUTES, gap * NO_EVENTS_GAP_FACTOR)));
}

const noEvents: Detector = {
  kind: 'no_events',
  needsConfig: true,
  async evaluate(record, now, read) {
    if (!isServable(record)) return UNKNOWN;
    // Outside business hours silence is normal: neither open nor clear an incident.
    if (!isOpenAt(record.config, now)) return UNKNOWN;
    const threshold = await noEventsThresholdMinutes(record, now, read);
    if (threshold === undefined) return UNKNOWN;
    const last = await read.lastCallAt();
    if (!last) return UNKNOWN;
    const quiet = businessMinutesBetween(record, last, now, threshold);
    if (quiet < threshold) return CLEAR;
    return {
      status: 'firing',
      severity: 'critical',
      summary: `No calls for ${quiet}+ minutes of business hours (threshold ${threshold} min); the last call came in at ${last.toISOString()}.`,
      action: "Call the client's number: if it does not reach the agent, check the number's binding and the webhook URL in Retell's dashboard.",
      details: { threshold_minutes: threshold, quiet_business_minutes: quiet, last_call_at: last.toISOString() },
    };
  },
};

/** Signature failures in 15 minutes that open an incident; it clears after a window without any. */
export const SIGNATURE_FAILURES_OPEN = 5;
const SIGNATURE_WINDOW_MS = 15 * MINUTE;

const signatureFailures: Detector = {
  kind: 'signature_failures',
  needsConfig: true,
  async evaluate(_record, _now, read) {
    // Retell signs every webhook: a correctly configured client has none. A few are scanners.
    const failures = await read.counter('signature_failure', SIGNATURE_WINDOW_MS);
    if (failures === 0) return CLEAR;
    if (failures < SIGNATURE_FAILURES_OPEN) return UNKNOWN;
    return {
      status: 'firing',
      severity: 'critical',
      summary: `${failures} webhooks with a bad or stale signature in the last 15 minutes: Retell's calls for this client are being refused.`,
      action: "The Retell API key in the client's configuration no longer matches (rotated in Retell?): set retell.api_key to the current key.",
      details: { failures, window_minutes: 15 },
    };
  },
};

const providerCredentials: Detector = {
  kind: 'provider_credentials',
  needsConfig: true,
  async evaluate(_record, _now, read) {
    const broken = await read.brokenIntegrations();
    if (broken.length === 0) return CLEAR;
    return {
      status: 'firing',
      severity: 'critical',
      summary: `Provider credentials refused: ${broken.map((b) => `${b.capability} (${b.provider})`).join(', ')}.`,
      action: broken.map((b) => b.detail ?? `update the ${b.capability} credentials of this client`).join(' '),
      details: { integrations: broken },
    };
  },
};

/** Messages failing or suppressed: the last hour against the client's previous 7 days. */
const MESSAGES_WINDOW_MS = 60 * MINUTE;
const MESSAGES_BASELINE_MS = 7 * 24 * 60 * MINUTE;
export const MESSAGES_MIN_BAD = 5;
const MESSAGES_MIN_RATE = 0.2;
const MESSAGES_BASELINE_FACTOR = 3;

const messagesFailing: Detector = {
  kind: 'messages_failing',
  needsConfig: true,
  async evaluate(_record, now, read) {
    const from = new Date(now.getTime() - MESSAGES_WINDOW_MS);
    const recent = await read.messageOutcomes(from, now);
    const rate = recent.total === 0 ? 0 : recent.bad / recent.total;
    const before = await read.messageOutcomes(new Date(from.getTime() - MESSAGES_BASELINE_MS), from);
    const normal = before.total === 0 ? 0 : before.bad / before.total;
    const openRate = Math.max(MESSAGES_MIN_RATE, normal * MESSAGES_BASELINE_FACTOR);
    if (recent.bad >= MESSAGES_MIN_BAD && rate >= openRate) {
      return {
        status: 'firing',
        severity: 'warning',
        summary: `${recent.bad} of ${recent.total} messages in the last hour failed or were suppressed (${Math.round(rate * 100)}%; normally ${Math.round(normal * 100)}%).`,
        action: "Look at the failed messages' error codes in the console: a refused sender number or domain needs the provider account fixed; many opt-outs need the templates looked at.",
        details: { bad: recent.bad, total: recent.total, rate, normal_rate: normal },
      };
    }
    // Clear only well below the opening figure (hysteresis).
    return recent.bad < MESSAGES_MIN_BAD / 2 || rate < openRate / 2 ? CLEAR : UNKNOWN;
  },
};

const deadJobs: Detector = {
  kind: 'dead_jobs',
  needsConfig: false,
  async evaluate(_record, _now, read) {
    const jobs = await read.deadJobs();
    if (jobs.length === 0) return CLEAR;
    const byQueue = new Map<string, number>();
    for (const job of jobs) byQueue.set(job.queue, (byQueue.get(job.queue) ?? 0) + 1);
    return {
      status: 'firing',
      severity: 'warning',
      summary: `${jobs.length} job(s) gave up after their retries: ${[...byQueue].map(([queue, n]) => `${queue} ×${n}`).join(', ')}.`,
      action: 'See `xlnc jobs failed --client <id>` (or the console\'s failed jobs), fix the cause, then `xlnc jobs retry <id>`; a replayed job never repeats what it already did.',
      details: { count: jobs.length, queues: Object.fromEntries(byQueue) },
    };
  },
};

const CAPACITY_WINDOW_MS = 15 * MINUTE;
const CAPACITY_CLEAR_WINDOW_MS = 60 * MINUTE;

const concurrencyCap: Detector = {
  kind: 'concurrency_cap',
  needsConfig: true,
  async evaluate(record, _now, read) {
    const recent = await read.counter('capacity_hit', CAPACITY_WINDOW_MS);
    if (recent > 0) {
      const limit = isServable(record) ? record.config.limits.max_concurrent_calls : undefined;
      return {
        status: 'firing',
        severity: 'warning',
        summary: `${recent} call(s) in the last 15 minutes arrived with ${limit ?? 'the'} concurrent calls already active (over capacity, overflowed or rejected).`,
        action: "Raise limits.max_concurrent_calls if the client's Retell concurrency allows it, or confirm the overflow policy is what the client wants.",
        details: { hits: recent, max_concurrent_calls: limit },
      };
    }
    return (await read.counter('capacity_hit', CAPACITY_CLEAR_WINDOW_MS)) === 0 ? CLEAR : UNKNOWN;
  },
};

const configInvalid: Detector = {
  kind: 'config_invalid',
  needsConfig: false,
  async evaluate(record) {
    if (record.status !== 'invalid') return CLEAR;
    return {
      status: 'firing',
      severity: 'critical',
      summary: `The configuration does not validate (${record.issues.length} problem(s)); every request for this client answers 503.`,
      action: `Fix the configuration (\`xlnc clients validate\` lists the problems): ${record.issues
        .slice(0, 3)
        .map((issue) => `${issue.path}: ${issue.message}`)
        .join('; ')}`,
      details: { issues: record.issues.slice(0, 20).map((issue) => ({ path: issue.path, message: issue.message })) },
    };
  },
};

/** Only the host of a subscription's URL is shown: its path and query may carry the client's own token. */
const hostOf = (url: string): string => (URL.canParse(url) ? new URL(url).host : 'an invalid URL');

const webhookDisabled: Detector = {
  kind: 'webhook_disabled',
  needsConfig: false,
  async evaluate(_record, _now, read) {
    const disabled = await read.failureDisabledWebhooks();
    if (disabled.length === 0) return CLEAR;
    const hosts = [...new Set(disabled.map((s) => hostOf(s.url)))];
    const since = disabled.map((s) => s.failingSince.getTime()).reduce((a, b) => Math.min(a, b));
    return {
      status: 'firing',
      severity: 'critical',
      summary: `${disabled.length} outbound webhook subscription(s) switched off after every delivery failed for 24 hours (${hosts.join(', ')}; failing since ${new Date(since).toISOString()}): the client's own systems hear no events.`,
      action:
        "Tell the client their endpoint refused or did not answer every delivery. Once it answers 2xx, re-enable the subscription (the client's Webhooks page, or PATCH status active) and replay its dead deliveries from the delivery log.",
      details: {
        subscriptions: disabled.map((s) => ({ id: s.id, url_host: hostOf(s.url), failing_since: s.failingSince.toISOString(), disabled_at: s.disabledAt?.toISOString() ?? null })),
      },
    };
  },
};

export const DETECTORS: readonly Detector[] = [noEvents, signatureFailures, providerCredentials, messagesFailing, deadJobs, concurrencyCap, configInvalid, webhookDisabled];
