/**
 * The outbound webhook tables (webhook_subscriptions, webhook_deliveries, webhook_delivery_attempts),
 * always inside the caller's tenant transaction; every function takes the client first.
 */
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { webhookDeliveries, webhookDeliveryAttempts, webhookSubscriptions } from '../platform/db/schema.ts';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookDeliveryAttempts.$inferSelect;

export type SubscriptionPatch = Partial<
  Pick<
    SubscriptionRow,
    'url' | 'description' | 'eventTypes' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'status' | 'disabledReason' | 'disabledAt' | 'failingSince'
  >
>;
export type DeliveryPatch = Partial<
  Pick<DeliveryRow, 'status' | 'attempts' | 'firstAttemptAt' | 'lastAttemptAt' | 'nextAttemptAt' | 'lastStatusCode' | 'lastLatencyMs' | 'lastError' | 'deliveredAt'>
>;

export async function insertSubscription(
  tx: Tx,
  clientId: string,
  values: Pick<SubscriptionRow, 'url' | 'description' | 'eventTypes' | 'secret'>,
): Promise<SubscriptionRow> {
  const [row] = await tx.insert(webhookSubscriptions).values({ clientId, ...values }).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listSubscriptions(tx: Tx, clientId: string): Promise<SubscriptionRow[]> {
  return tx.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.clientId, clientId)).orderBy(asc(webhookSubscriptions.createdAt));
}

/** `forUpdate` locks the row until commit: a subscription's ordered deliveries decide one at a time. */
export async function findSubscription(tx: Tx, clientId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<SubscriptionRow | undefined> {
  const query = tx
    .select()
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.clientId, clientId), eq(webhookSubscriptions.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function updateSubscription(tx: Tx, clientId: string, id: string, patch: SubscriptionPatch): Promise<SubscriptionRow | undefined> {
  const [row] = await tx
    .update(webhookSubscriptions)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(webhookSubscriptions.clientId, clientId), eq(webhookSubscriptions.id, id)))
    .returning();
  return row;
}

export async function deleteSubscription(tx: Tx, clientId: string, id: string): Promise<boolean> {
  const rows = await tx
    .delete(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.clientId, clientId), eq(webhookSubscriptions.id, id)))
    .returning({ id: webhookSubscriptions.id });
  return rows.length > 0;
}

/** The client's active subscriptions that want events of `type`. */
export async function activeSubscriptionsFor(tx: Tx, clientId: string, type: string): Promise<SubscriptionRow[]> {
  return tx
    .select()
    .from(webhookSubscriptions)
    .where(
      and(
        eq(webhookSubscriptions.clientId, clientId),
        eq(webhookSubscriptions.status, 'active'),
        sql`${webhookSubscriptions.eventTypes} @> ${JSON.stringify([type])}::jsonb`,
      ),
    )
    .orderBy(asc(webhookSubscriptions.createdAt));
}

/** Stores the delivery unless this subscription already has one for this event; returns it when stored. */
export async function insertDelivery(
  tx: Tx,
  clientId: string,
  values: Pick<DeliveryRow, 'subscriptionId' | 'eventId' | 'eventType' | 'eventSeq' | 'ordered'>,
): Promise<DeliveryRow | undefined> {
  const [row] = await tx
    .insert(webhookDeliveries)
    .values({ clientId, status: 'pending', ...values })
    .onConflictDoNothing({ target: [webhookDeliveries.clientId, webhookDeliveries.subscriptionId, webhookDeliveries.eventId] })
    .returning();
  return row;
}

export async function findDelivery(tx: Tx, clientId: string, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.clientId, clientId), eq(webhookDeliveries.id, id)));
  return row;
}

export async function updateDelivery(tx: Tx, clientId: string, id: string, patch: DeliveryPatch): Promise<DeliveryRow | undefined> {
  const [row] = await tx
    .update(webhookDeliveries)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(webhookDeliveries.clientId, clientId), eq(webhookDeliveries.id, id)))
    .returning();
  return row;
}

/** Whether an ordered delivery of this subscription before `seq` is still open (pending or waiting). */
export async function hasOpenOrderedBefore(tx: Tx, clientId: string, subscriptionId: string, seq: number): Promise<boolean> {
  const [row] = await tx
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.clientId, clientId),
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        eq(webhookDeliveries.ordered, true),
        inArray(webhookDeliveries.status, ['pending', 'waiting']),
        lt(webhookDeliveries.eventSeq, seq),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** The first open ordered delivery of the subscription (lowest seq), if any. */
export async function firstOpenOrdered(tx: Tx, clientId: string, subscriptionId: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.clientId, clientId),
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        eq(webhookDeliveries.ordered, true),
        inArray(webhookDeliveries.status, ['pending', 'waiting']),
      ),
    )
    .orderBy(asc(webhookDeliveries.eventSeq))
    .limit(1);
  return row;
}

/** The subscription's open deliveries (pending or waiting), oldest first: what a disable ends. */
export async function openDeliveries(tx: Tx, clientId: string, subscriptionId: string): Promise<DeliveryRow[]> {
  return tx
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.clientId, clientId),
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        inArray(webhookDeliveries.status, ['pending', 'waiting']),
      ),
    )
    .orderBy(asc(webhookDeliveries.eventSeq));
}

export interface DeliveryFilter {
  subscriptionId?: string | undefined;
  status?: string | undefined;
  /** Keyset cursor: deliveries listed after this one (its id). */
  afterId?: string | undefined;
  limit: number;
}

/** Newest first. */
export async function listDeliveries(tx: Tx, clientId: string, filter: DeliveryFilter): Promise<DeliveryRow[]> {
  return tx
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.clientId, clientId),
        filter.subscriptionId !== undefined ? eq(webhookDeliveries.subscriptionId, filter.subscriptionId) : undefined,
        filter.status !== undefined ? eq(webhookDeliveries.status, filter.status) : undefined,
        filter.afterId !== undefined
          ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (select d.created_at, d.id from webhook_deliveries d where d.client_id = ${clientId} and d.id = ${filter.afterId}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(filter.limit);
}

export async function insertAttempt(tx: Tx, clientId: string, values: Omit<typeof webhookDeliveryAttempts.$inferInsert, 'id' | 'clientId'>): Promise<void> {
  await tx.insert(webhookDeliveryAttempts).values({ clientId, ...values });
}

export async function listAttempts(tx: Tx, clientId: string, deliveryId: string): Promise<AttemptRow[]> {
  return tx
    .select()
    .from(webhookDeliveryAttempts)
    .where(and(eq(webhookDeliveryAttempts.clientId, clientId), eq(webhookDeliveryAttempts.deliveryId, deliveryId)))
    .orderBy(asc(webhookDeliveryAttempts.attempt), asc(webhookDeliveryAttempts.id));
}

/** Each subscription's newest delivery (one row per subscription that has any). */
export async function latestDeliveries(tx: Tx, clientId: string): Promise<DeliveryRow[]> {
  return tx
    .selectDistinctOn([webhookDeliveries.subscriptionId])
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.clientId, clientId))
    .orderBy(webhookDeliveries.subscriptionId, desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id));
}
