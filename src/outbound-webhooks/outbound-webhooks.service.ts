/**
 * A client's outbound webhook subscriptions and their delivery log. Every call takes the client
 * first and runs in its tenant transaction; another client's subscription reads as not found.
 * Secrets are generated (or taken) as `whsec_` values, sealed before storage and shown once.
 * Every change is audited (who, what, the request) in its own transaction; a secret appears in
 * the audit log only as `••••`.
 */
import { resolveAuditActor, writeAudit, type AuditAction, type AuditActor } from '../admin/audit.service.ts';
import { DOMAIN_EVENT_TYPES, type DomainEventType } from '../core/domain-events.ts';
import type { Tx } from '../platform/db/database.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import type { OutboundHttp } from '../platform/outbound-http.ts';
import type { JobQueue } from '../platform/queue.ts';
import { maskSecret, type SecretSealer } from '../platform/secrets.ts';
import { generateWebhookSecret } from '../platform/standard-webhooks.ts';
import {
  deleteSubscription,
  findDelivery,
  findSubscription,
  insertSubscription,
  latestDeliveries,
  listAttempts,
  listDeliveries,
  listSubscriptions,
  updateSubscription,
  type AttemptRow,
  type DeliveryRow,
  type SubscriptionRow,
} from './outbound-webhooks.repo.ts';
import { deliveryStatuses, type DeliveryView, type SubscriptionView } from './outbound-webhooks.schemas.ts';
import { ORDERED_EVENT_TYPES, replayDelivery, webhookIdOf } from './webhook-delivery.ts';

/** Subscriptions per client: each event fans out to every one of them. */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 20;

export interface OutboundWebhooksServiceDeps {
  tenancy: Tenancy;
  sealer: SecretSealer;
  outbound: Pick<OutboundHttp, 'urlProblem'>;
  queue: Pick<JobQueue, 'enqueue'>;
  clock?: () => Date;
}

export interface SubscriptionInput {
  url: string;
  event_types: string[];
  description?: string | null | undefined;
  secret?: string | undefined;
}

export interface SubscriptionChange {
  url?: string | undefined;
  event_types?: string[] | undefined;
  description?: string | null | undefined;
  status?: 'active' | 'disabled' | undefined;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

const MASKED = '••••';

/** A change of one field, the audit log's diff shape (admin/client-secrets.ts). */
type Change = { path: string; from?: unknown; to?: unknown };

/** What a PATCH changed, field by field (a secret never is: it changes only by rotation). */
function changesOf(before: SubscriptionRow, after: SubscriptionRow): Change[] {
  const changes: Change[] = [];
  if (before.url !== after.url) changes.push({ path: '$.url', from: before.url, to: after.url });
  if (JSON.stringify(before.eventTypes) !== JSON.stringify(after.eventTypes)) changes.push({ path: '$.event_types', from: before.eventTypes, to: after.eventTypes });
  if (before.description !== after.description) changes.push({ path: '$.description', from: before.description, to: after.description });
  if (before.status !== after.status) changes.push({ path: '$.status', from: before.status, to: after.status });
  return changes;
}

export function createOutboundWebhooksService(deps: OutboundWebhooksServiceDeps) {
  const now = deps.clock ?? (() => new Date());

  const checkUrl = (url: string): void => {
    const problem = deps.outbound.urlProblem(url);
    if (problem) throw new AppError('invalid_payload', `url: ${problem}`);
  };

  const deliveryStatus = (status: string) => deliveryStatuses.find((s) => s === status) ?? 'pending';

  const view = (row: SubscriptionRow, last?: DeliveryRow): SubscriptionView => {
    const rotating = row.previousSecret !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > now();
    return {
      id: row.id,
      client_id: row.clientId,
      url: row.url,
      description: row.description,
      event_types: row.eventTypes,
      status: row.status === 'disabled' ? 'disabled' : 'active',
      disabled_reason: row.disabledReason,
      disabled_at: iso(row.disabledAt),
      failing_since: iso(row.failingSince),
      secret_hint: maskSecret(deps.sealer.open(row.secret)),
      previous_secret_valid_until: rotating ? iso(row.previousSecretExpiresAt) : null,
      last_delivery: last
        ? { id: last.id, status: deliveryStatus(last.status), last_status_code: last.lastStatusCode, created_at: last.createdAt.toISOString(), delivered_at: iso(last.deliveredAt) }
        : null,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  };

  const deliveryView = (row: DeliveryRow): DeliveryView => ({
    id: row.id,
    subscription_id: row.subscriptionId,
    webhook_id: webhookIdOf(row),
    event_id: row.eventId,
    event_type: row.eventType,
    event_seq: row.eventSeq,
    ordered: row.ordered,
    status: deliveryStatus(row.status),
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_latency_ms: row.lastLatencyMs,
    last_error: row.lastError,
    next_attempt_at: iso(row.nextAttemptAt),
    delivered_at: iso(row.deliveredAt),
    created_at: row.createdAt.toISOString(),
  });

  const attemptView = (row: AttemptRow) => ({
    attempt: row.attempt,
    outcome: row.outcome === 'succeeded' ? ('succeeded' as const) : ('failed' as const),
    status_code: row.statusCode,
    latency_ms: row.latencyMs,
    error: row.error,
    attempted_at: row.attemptedAt.toISOString(),
  });

  /** The audit writer for one request: the actor resolved once, each entry in the change's transaction. */
  const auditFor = async (clientId: string, actor: AuditActor) => {
    const who = await resolveAuditActor(deps.tenancy, actor);
    return (tx: Tx, action: AuditAction, targetId: string, diff: Record<string, unknown>) => writeAudit(tx, { ...who, action, clientId, targetId, diff });
  };

  const mustFind = async (clientId: string, id: string, tx: Parameters<Parameters<Tenancy['withTenant']>[1]>[0]) => {
    const row = await findSubscription(tx, clientId, id, { forUpdate: true });
    if (!row) throw new AppError('not_found', 'Subscription not found');
    return row;
  };

  return {
    eventTypes(): { type: DomainEventType; ordered: boolean }[] {
      return DOMAIN_EVENT_TYPES.map((type) => ({ type, ordered: ORDERED_EVENT_TYPES.has(type) }));
    },

    async list(clientId: string): Promise<SubscriptionView[]> {
      const { rows, latest } = await deps.tenancy.withTenant(clientId, async (tx) => ({ rows: await listSubscriptions(tx, clientId), latest: await latestDeliveries(tx, clientId) }));
      const bySubscription = new Map(latest.map((d) => [d.subscriptionId, d]));
      return rows.map((row) => view(row, bySubscription.get(row.id)));
    },

    async get(clientId: string, id: string): Promise<SubscriptionView> {
      const row = await deps.tenancy.withTenant(clientId, (tx) => findSubscription(tx, clientId, id));
      if (!row) throw new AppError('not_found', 'Subscription not found');
      return view(row);
    },

    async create(clientId: string, input: SubscriptionInput, actor: AuditActor): Promise<SubscriptionView & { secret: string }> {
      checkUrl(input.url);
      const secret = input.secret ?? generateWebhookSecret();
      const audit = await auditFor(clientId, actor);
      const row = await deps.tenancy.withTenant(clientId, async (tx) => {
        if ((await listSubscriptions(tx, clientId)).length >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
          throw new AppError('conflict', `A client has at most ${MAX_SUBSCRIPTIONS_PER_CLIENT} webhook subscriptions`);
        }
        const created = await insertSubscription(tx, clientId, {
          url: input.url,
          description: input.description ?? null,
          eventTypes: [...new Set(input.event_types)],
          secret: deps.sealer.seal(secret),
        });
        await audit(tx, 'webhook_subscription.create', created.id, {
          changes: [
            { path: '$.url', to: created.url },
            { path: '$.event_types', to: created.eventTypes },
            { path: '$.description', to: created.description },
            { path: '$.secret', to: MASKED },
          ],
          secret: input.secret === undefined ? 'generated' : 'provided',
        });
        return created;
      });
      return { ...view(row), secret };
    },

    async update(clientId: string, id: string, change: SubscriptionChange, actor: AuditActor): Promise<SubscriptionView> {
      if (change.url !== undefined) checkUrl(change.url);
      const audit = await auditFor(clientId, actor);
      const row = await deps.tenancy.withTenant(clientId, async (tx) => {
        const current = await mustFind(clientId, id, tx);
        const reenabled = change.status === 'active' && current.status !== 'active';
        const updated = await updateSubscription(tx, clientId, id, {
          ...(change.url !== undefined ? { url: change.url } : {}),
          ...(change.event_types !== undefined ? { eventTypes: [...new Set(change.event_types)] } : {}),
          ...(change.description !== undefined ? { description: change.description } : {}),
          // A user's disable clears failing_since: only a subscription the 24 h rule switched off keeps it (the webhook_disabled alert).
          ...(change.status === 'disabled' && current.status === 'active' ? { status: 'disabled', disabledAt: now(), disabledReason: 'disabled by a user', failingSince: null } : {}),
          // Re-enabled: a fresh start; dead deliveries stay dead until replayed.
          ...(reenabled ? { status: 'active', disabledAt: null, disabledReason: null, failingSince: null } : {}),
        });
        const changes = updated ? changesOf(current, updated) : [];
        if (updated && changes.length > 0) {
          const action = updated.status === current.status ? 'webhook_subscription.update' : updated.status === 'active' ? 'webhook_subscription.enable' : 'webhook_subscription.disable';
          await audit(tx, action, id, { changes });
        }
        return updated;
      });
      if (!row) throw new AppError('not_found', 'Subscription not found');
      return view(row);
    },

    /** A new current secret; the old one keeps signing (as a second signature) for `previousValidHours`. */
    async rotateSecret(clientId: string, id: string, previousValidHours: number, actor: AuditActor): Promise<SubscriptionView & { secret: string }> {
      const secret = generateWebhookSecret();
      const audit = await auditFor(clientId, actor);
      const row = await deps.tenancy.withTenant(clientId, async (tx) => {
        const current = await mustFind(clientId, id, tx);
        const rotated = await updateSubscription(tx, clientId, id, {
          secret: deps.sealer.seal(secret),
          previousSecret: previousValidHours > 0 ? current.secret : null,
          previousSecretExpiresAt: previousValidHours > 0 ? new Date(now().getTime() + previousValidHours * 3_600_000) : null,
        });
        await audit(tx, 'webhook_subscription.rotate_secret', id, {
          changes: [{ path: '$.secret', from: MASKED, to: MASKED }],
          previous_valid_until: rotated?.previousSecretExpiresAt?.toISOString() ?? null,
        });
        return rotated;
      });
      if (!row) throw new AppError('not_found', 'Subscription not found');
      return { ...view(row), secret };
    },

    async remove(clientId: string, id: string, actor: AuditActor): Promise<void> {
      const audit = await auditFor(clientId, actor);
      await deps.tenancy.withTenant(clientId, async (tx) => {
        const current = await mustFind(clientId, id, tx);
        if (!(await deleteSubscription(tx, clientId, id))) throw new AppError('not_found', 'Subscription not found');
        await audit(tx, 'webhook_subscription.delete', id, {
          changes: [
            { path: '$.url', from: current.url },
            { path: '$.event_types', from: current.eventTypes },
            { path: '$.status', from: current.status },
          ],
        });
      });
    },

    async deliveries(clientId: string, filter: { subscription_id?: string | undefined; status?: string | undefined; limit: number; cursor?: string | undefined }) {
      const rows = await deps.tenancy.withTenant(clientId, (tx) =>
        listDeliveries(tx, clientId, { subscriptionId: filter.subscription_id, status: filter.status, afterId: filter.cursor, limit: filter.limit + 1 }),
      );
      const page = rows.slice(0, filter.limit);
      return { items: page.map(deliveryView), next_cursor: rows.length > filter.limit ? (page[page.length - 1]?.id ?? null) : null };
    },

    async delivery(clientId: string, id: string) {
      const found = await deps.tenancy.withTenant(clientId, async (tx) => {
        const row = await findDelivery(tx, clientId, id);
        return row ? { row, attempts: await listAttempts(tx, clientId, id) } : undefined;
      });
      if (!found) throw new AppError('not_found', 'Delivery not found');
      return { ...deliveryView(found.row), attempts_log: found.attempts.map(attemptView) };
    },

    /** Sends a finished (delivered or dead) delivery again, with the same `webhook-id`. */
    async replay(clientId: string, id: string, actor: AuditActor): Promise<DeliveryView> {
      const audit = await auditFor(clientId, actor);
      const row = await deps.tenancy.withTenant(clientId, async (tx) => {
        const delivery = await findDelivery(tx, clientId, id);
        if (!delivery) throw new AppError('not_found', 'Delivery not found');
        if (delivery.status !== 'succeeded' && delivery.status !== 'dead') {
          throw new AppError('conflict', `The delivery is ${delivery.status}: it is still being delivered`);
        }
        const subscription = await findSubscription(tx, clientId, delivery.subscriptionId);
        if (subscription?.status !== 'active') throw new AppError('conflict', 'Enable the subscription before replaying its deliveries');
        const replayed = await replayDelivery(tx, deps, delivery);
        await audit(tx, 'webhook_delivery.replay', id, {
          subscription_id: delivery.subscriptionId,
          webhook_id: webhookIdOf(delivery),
          event_type: delivery.eventType,
          changes: [{ path: '$.status', from: delivery.status, to: replayed?.status ?? delivery.status }],
        });
        return replayed;
      });
      if (!row) throw new AppError('not_found', 'Delivery not found');
      return deliveryView(row);
    },
  };
}

export type OutboundWebhooksService = ReturnType<typeof createOutboundWebhooksService>;
