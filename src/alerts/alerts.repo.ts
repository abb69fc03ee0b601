/** alerts: one row per incident (see schema.ts). Tenant functions take the client first. */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { alerts } from '../platform/db/schema.ts';

export type AlertRow = typeof alerts.$inferSelect;
export type AlertInsert = Omit<typeof alerts.$inferInsert, 'clientId' | 'id' | 'createdAt' | 'updatedAt'>;
export type AlertUpdate = Partial<Omit<AlertInsert, 'kind' | 'openedAt'>>;

/** The client's unresolved alert of this kind, locked for the caller's transaction. */
export async function findActiveAlert(tx: Tx, clientId: string, kind: string): Promise<AlertRow | undefined> {
  const [row] = await tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.clientId, clientId), eq(alerts.kind, kind), ne(alerts.state, 'resolved')))
    .for('update');
  return row;
}

/** Every unresolved alert of the client, locked (one evaluation pass at a time per client). */
export async function listActiveAlertsForUpdate(tx: Tx, clientId: string): Promise<AlertRow[]> {
  return tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.clientId, clientId), ne(alerts.state, 'resolved')))
    .for('update');
}

/** Inserts an incident; undefined when another writer opened one of this kind first (the partial unique index). */
export async function insertAlert(tx: Tx, clientId: string, values: AlertInsert): Promise<AlertRow | undefined> {
  const [row] = await tx
    .insert(alerts)
    .values({ ...values, clientId })
    .onConflictDoNothing({ target: [alerts.clientId, alerts.kind], where: sql`state <> 'resolved'` })
    .returning();
  return row;
}

export async function updateAlert(tx: Tx, clientId: string, id: string, set: AlertUpdate): Promise<AlertRow | undefined> {
  const [row] = await tx
    .update(alerts)
    .set({ ...set, updatedAt: new Date() })
    .where(and(eq(alerts.clientId, clientId), eq(alerts.id, id)))
    .returning();
  return row;
}

export async function findAlert(tx: Tx, clientId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<AlertRow | undefined> {
  const query = tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.clientId, clientId), eq(alerts.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export type AlertListFilter = 'active' | 'resolved' | 'all';

/** The client's alerts, newest first; `before` pages on `opened_at`. */
export async function listAlerts(tx: Tx, clientId: string, filter: AlertListFilter, limit: number, before?: Date): Promise<AlertRow[]> {
  const conditions = [eq(alerts.clientId, clientId)];
  if (filter === 'active') conditions.push(ne(alerts.state, 'resolved'));
  if (filter === 'resolved') conditions.push(eq(alerts.state, 'resolved'));
  if (before) conditions.push(lt(alerts.openedAt, before));
  return tx
    .select()
    .from(alerts)
    .where(and(...conditions))
    .orderBy(desc(alerts.openedAt), desc(alerts.id))
    .limit(limit);
}

/** Platform: every unresolved alert of every client (the operator console), newest first. */
export async function listActiveAlertsOfAllClients(tx: Tx, limit: number): Promise<AlertRow[]> {
  return tx.select().from(alerts).where(ne(alerts.state, 'resolved')).orderBy(desc(alerts.openedAt), desc(alerts.id)).limit(limit);
}

/** Platform: unresolved alerts per client and kind (the health list, `/metrics`). */
export async function countActiveAlerts(tx: Tx): Promise<{ clientId: string; kind: string; count: number }[]> {
  return tx
    .select({ clientId: alerts.clientId, kind: alerts.kind, count: sql<number>`count(*)::int` })
    .from(alerts)
    .where(ne(alerts.state, 'resolved'))
    .groupBy(alerts.clientId, alerts.kind);
}
