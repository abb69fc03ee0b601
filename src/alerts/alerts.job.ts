/**
 * When the detectors run: on a schedule (alerts-schedule.ts enqueues `alert.evaluate` for every
 * client each interval, keyed by the interval so several instances enqueue it once) and on the
 * domain events that can change what a detector sees (the `alerts` subscriber), so a refused
 * credential or an invalid configuration opens its incident at once.
 */
import { z } from 'zod';
import type { ClientRecord } from '../clients/client.schema.ts';
import type { DomainEventType } from '../core/domain-events.ts';
import { defineJob, type JobContext } from '../core/jobs.ts';
import { defineSubscriber } from '../core/subscribers.ts';
import { evaluateClient, type AlertDeps } from './alerts.service.ts';
import { DETECTORS, type AlertKind } from './detectors.ts';

export type AlertEvaluationContext = Pick<JobContext, 'tenancy' | 'queue' | 'health' | 'logger' | 'alerting'>;

function alertDeps(ctx: AlertEvaluationContext): AlertDeps {
  return { tenancy: ctx.tenancy, queue: ctx.queue, health: ctx.health, logger: ctx.logger, policy: ctx.alerting.policy };
}

async function evaluate(client: ClientRecord, ctx: AlertEvaluationContext, kinds?: readonly AlertKind[]): Promise<string> {
  const detectors = kinds ? DETECTORS.filter((d) => kinds.includes(d.kind)) : DETECTORS;
  const transitions = await evaluateClient(alertDeps(ctx), client, ctx.alerting.now(), detectors);
  return transitions.some((t) => t.change === 'opened' || t.change === 'resolved') ? 'changed' : 'completed';
}

export const alertEvaluateJob = defineJob({
  name: 'alert.evaluate',
  payload: z.object({ client_id: z.string().min(1), interval: z.number().int() }),
  retryLimit: 2,
  retryDelaySeconds: 10,
  retryDelayMaxSeconds: 60,
  expireInSeconds: 60,
  handle: (client, _p, ctx: AlertEvaluationContext) => evaluate(client, ctx),
  handleUnservable: (client, _p, ctx: AlertEvaluationContext) => evaluate(client, ctx),
});

/** The detectors each event can change. */
const KINDS_BY_EVENT = {
  'client.config_invalid': ['config_invalid'],
  'client.config_restored': ['config_invalid'],
  'integration.degraded': ['provider_credentials'],
  'integration.recovered': ['provider_credentials'],
  'message.failed': ['messages_failing'],
  'message.suppressed': ['messages_failing'],
  'webhook_subscription.disabled': ['webhook_disabled'],
} as const satisfies Partial<Record<DomainEventType, readonly AlertKind[]>>;

const ALERT_EVENTS = Object.keys(KINDS_BY_EVENT) as (keyof typeof KINDS_BY_EVENT)[];

export const alertsSubscriber = defineSubscriber({
  name: 'alerts',
  events: ALERT_EVENTS,
  ordered: false,
  retry: { retryLimit: 3, retryDelaySeconds: 5, retryDelayMaxSeconds: 60 },
  handle: async (client, event, ctx) => {
    await evaluate(client, ctx, KINDS_BY_EVENT[event.type]);
  },
  handleUnservable: async (client, event, ctx) => {
    await evaluate(client, ctx, KINDS_BY_EVENT[event.type]);
  },
});
