/**
 * Health alerts: detectors' observations become incidents, and incidents become operator notices.
 *
 * One incident per client and kind at a time (a partial unique index). Opening notifies once; an
 * incident still open (not acknowledged) after the reminder time reminds once per reminder time;
 * it resolves only after the problem has stayed away for `clearForMs` (a problem seen again
 * before then keeps the same incident and sends nothing: flapping is damped), and resolving
 * notifies recovery once. Notices are jobs keyed on (incident, notice, channel), enqueued in the
 * transaction that changed the incident, so none is lost and none is sent twice.
 */
import type { ClientRecord } from '../clients/client.schema.ts';
import type { Tx } from '../platform/db/database.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import type { HealthCounters } from '../platform/health-counters.ts';
import type { Logger } from '../platform/logging.ts';
import type { JobQueue } from '../platform/queue.ts';
import { NOTICE_CHANNELS, alertNoticeJob, type AlertNotice } from './alert-notice.job.ts';
import {
  countActiveAlerts,
  findAlert,
  insertAlert,
  listActiveAlertsForUpdate,
  listActiveAlertsOfAllClients,
  listAlerts,
  updateAlert,
  type AlertListFilter,
  type AlertRow,
} from './alerts.repo.ts';
import { DETECTORS, type AlertKind, type Detector, type HealthReader, type Observation } from './detectors.ts';
import type { AlertPolicy } from './operator-notifier.ts';
import { brokenIntegrations, callTimesSince, failureDisabledWebhooks, lastCallAt, messageOutcomes } from './health-signals.repo.ts';


export interface AlertDeps {
  tenancy: Tenancy;
  queue: Pick<JobQueue, 'enqueue' | 'deadLetters'>;
  health: HealthCounters;
  logger: Pick<Logger, 'warn'>;
  policy: AlertPolicy;
}

export type { AlertPolicy, AlertRow };

function readerFor(deps: AlertDeps, clientId: string, now: Date): HealthReader {
  const tenant = <T>(read: (tx: Tx) => Promise<T>) => deps.tenancy.withTenant(clientId, read);
  return {
    lastCallAt: () => tenant((tx) => lastCallAt(tx, clientId)),
    callTimesSince: (since) => tenant((tx) => callTimesSince(tx, clientId, since, 20_000)),
    messageOutcomes: (from, to) => tenant((tx) => messageOutcomes(tx, clientId, from, to)),
    brokenIntegrations: () => tenant((tx) => brokenIntegrations(tx, clientId)),
    deadJobs: () => deps.queue.deadLetters({ clientId, limit: 1000 }),
    counter: (signal, windowMs) => deps.health.count(clientId, signal, windowMs, now),
    failureDisabledWebhooks: () => tenant((tx) => failureDisabledWebhooks(tx, clientId)),
  };
}

async function observe(detector: Detector, client: ClientRecord, now: Date, read: HealthReader, logger: AlertDeps['logger']): Promise<Observation> {
  if (detector.needsConfig && client.status !== 'active') return { status: 'unknown' };
  try {
    return await detector.evaluate(client, now, read);
  } catch (error) {
    // One detector failing to read must not hide what the others see.
    logger.warn({ err: error, client_id: client.id, detector: detector.kind }, 'health detector failed; treated as unknown');
    return { status: 'unknown' };
  }
}

async function enqueueNotice(deps: { queue: Pick<JobQueue, 'enqueue'> }, tx: Tx, alert: AlertRow, notice: AlertNotice, n: number): Promise<void> {
  for (const channel of NOTICE_CHANNELS) {
    await deps.queue.enqueue(
      alertNoticeJob,
      { client_id: alert.clientId, alert_id: alert.id, notice, n, channel },
      { tx, key: `${alert.clientId}:${alert.id}:${notice}:${n}:${channel}` },
    );
  }
}

export interface Transition {
  kind: AlertKind;
  alertId: string;
  change: 'opened' | 'reminded' | 'updated' | 'clearing' | 'resolved';
}

/** Applies one observation to the client's incident of that kind (in `tx`, the incident locked). */
async function apply(deps: AlertDeps, tx: Tx, clientId: string, kind: AlertKind, observation: Observation, active: AlertRow | undefined, now: Date): Promise<Transition | undefined> {
  if (observation.status === 'unknown') return undefined;
  if (observation.status === 'firing') {
    const seen = { severity: observation.severity, summary: observation.summary, action: observation.action, details: observation.details, lastSeenAt: now, clearSince: null };
    if (!active) {
      const opened = await insertAlert(tx, clientId, { kind, state: 'open', ...seen, openedAt: now, notifiedAt: now });
      if (!opened) return undefined;
      await enqueueNotice(deps, tx, opened, 'opened', 0);
      return { kind, alertId: opened.id, change: 'opened' };
    }
    const lastNotice = active.remindedAt ?? active.notifiedAt ?? active.openedAt;
    if (active.state === 'open' && now.getTime() - lastNotice.getTime() >= deps.policy.reminderMs) {
      const reminded = await updateAlert(tx, clientId, active.id, { ...seen, remindedAt: now, reminders: active.reminders + 1 });
      if (reminded) await enqueueNotice(deps, tx, reminded, 'reminder', reminded.reminders);
      return { kind, alertId: active.id, change: 'reminded' };
    }
    await updateAlert(tx, clientId, active.id, seen);
    return { kind, alertId: active.id, change: 'updated' };
  }
  if (!active) return undefined;
  const clearSince = active.clearSince ?? now;
  if (now.getTime() - clearSince.getTime() < deps.policy.clearForMs) {
    if (!active.clearSince) await updateAlert(tx, clientId, active.id, { clearSince });
    return { kind, alertId: active.id, change: 'clearing' };
  }
  const resolved = await updateAlert(tx, clientId, active.id, { state: 'resolved', clearSince, resolvedAt: now, resolvedBy: 'detector', recoveryNotifiedAt: now });
  if (resolved) await enqueueNotice(deps, tx, resolved, 'resolved', 0);
  return { kind, alertId: active.id, change: 'resolved' };
}

/**
 * Runs every detector for the client at `now` (the clock is the caller's: the schedule passes the
 * time, tests pass any) and applies what they saw. A disabled client is not evaluated.
 */
export async function evaluateClient(deps: AlertDeps, client: ClientRecord, now: Date, detectors: readonly Detector[] = DETECTORS): Promise<Transition[]> {
  if (client.status === 'disabled') return [];
  const read = readerFor(deps, client.id, now);
  const observations = await Promise.all(detectors.map(async (detector) => ({ kind: detector.kind, observation: await observe(detector, client, now, read, deps.logger) })));
  return deps.tenancy.withTenant(client.id, async (tx) => {
    const active = new Map((await listActiveAlertsForUpdate(tx, client.id)).map((row) => [row.kind, row]));
    const transitions: Transition[] = [];
    for (const { kind, observation } of observations) {
      const transition = await apply(deps, tx, client.id, kind, observation, active.get(kind), now);
      if (transition) transitions.push(transition);
    }
    return transitions;
  });
}

export async function listClientAlerts(tenancy: Tenancy, clientId: string, filter: AlertListFilter, limit: number, before?: Date): Promise<AlertRow[]> {
  return tenancy.withTenant(clientId, (tx) => listAlerts(tx, clientId, filter, limit, before));
}

export async function getClientAlert(tenancy: Tenancy, clientId: string, alertId: string): Promise<AlertRow> {
  const row = await tenancy.withTenant(clientId, (tx) => findAlert(tx, clientId, alertId));
  if (!row) throw new AppError('not_found', 'No such alert for this client');
  return row;
}

/** Stops reminders; the incident still resolves (and notifies recovery) when the problem goes away. */
export async function acknowledgeAlert(tenancy: Tenancy, clientId: string, alertId: string, userId: string, now: Date = new Date()): Promise<AlertRow> {
  return tenancy.withTenant(clientId, async (tx) => {
    const row = await findAlert(tx, clientId, alertId, { forUpdate: true });
    if (!row) throw new AppError('not_found', 'No such alert for this client');
    if (row.state === 'resolved') throw new AppError('conflict', 'The alert is already resolved');
    if (row.state === 'acknowledged') return row;
    return (await updateAlert(tx, clientId, alertId, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: userId })) ?? row;
  });
}

/**
 * An operator closes the incident (they fixed it); the recovery notice goes out once. If the
 * detector still sees the problem, its next pass opens a new incident.
 */
export async function resolveAlert(deps: { tenancy: Tenancy; queue: Pick<JobQueue, 'enqueue'> }, clientId: string, alertId: string, userId: string, now: Date = new Date()): Promise<AlertRow> {
  return deps.tenancy.withTenant(clientId, async (tx) => {
    const row = await findAlert(tx, clientId, alertId, { forUpdate: true });
    if (!row) throw new AppError('not_found', 'No such alert for this client');
    if (row.state === 'resolved') return row;
    const resolved = await updateAlert(tx, clientId, alertId, { state: 'resolved', resolvedAt: now, resolvedBy: userId, recoveryNotifiedAt: now });
    if (!resolved) throw new AppError('not_found', 'No such alert for this client');
    await enqueueNotice(deps, tx, resolved, 'resolved', 0);
    return resolved;
  });
}

/** Platform: every unresolved alert (the operator console). */
export async function listOpenAlertsOfAllClients(tenancy: Tenancy, limit: number): Promise<AlertRow[]> {
  return tenancy.withPlatform((tx) => listActiveAlertsOfAllClients(tx, limit));
}

/** Platform: unresolved alerts per client and kind. */
export async function openAlertCounts(tenancy: Tenancy): Promise<{ clientId: string; kind: string; count: number }[]> {
  return tenancy.withPlatform((tx) => countActiveAlerts(tx));
}
