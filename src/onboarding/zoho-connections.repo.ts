/**
 * Zoho connect flows (platform table: sealed secrets, tenants never read it).
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { zohoConnections } from '../platform/db/schema.ts';

export type ZohoConnectionRow = typeof zohoConnections.$inferSelect;

export async function insertZohoConnection(tx: Tx, row: typeof zohoConnections.$inferInsert): Promise<void> {
  await tx.insert(zohoConnections).values(row);
}

export async function findZohoConnection(tx: Tx, id: string): Promise<ZohoConnectionRow | undefined> {
  const [row] = await tx.select().from(zohoConnections).where(eq(zohoConnections.id, id)).limit(1);
  return row;
}

/** Marks a pending, unexpired flow used and returns it; undefined if it was used, expired or never existed (one winner). */
export async function claimZohoConnection(tx: Tx, id: string): Promise<ZohoConnectionRow | undefined> {
  const [row] = await tx
    .update(zohoConnections)
    .set({ usedAt: sql`now()` })
    .where(and(eq(zohoConnections.id, id), isNull(zohoConnections.usedAt), gt(zohoConnections.expiresAt, sql`now()`)))
    .returning();
  return row;
}

export async function finishZohoConnection(tx: Tx, id: string, result: { status: 'connected'; refreshToken: string } | { status: 'failed'; error: string }): Promise<void> {
  await tx
    .update(zohoConnections)
    .set(result.status === 'connected' ? { status: 'connected', refreshToken: result.refreshToken } : { status: 'failed', error: result.error })
    .where(eq(zohoConnections.id, id));
}
