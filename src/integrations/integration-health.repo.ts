/** integration_status: one row per client and capability (calendar, sms, email). */
import { and, eq } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { integrationStatus } from '../platform/db/schema.ts';

export type IntegrationStatusRow = typeof integrationStatus.$inferSelect;

/**
 * Writes the capability's current status (one row per client and capability); returns the row as
 * it was before (undefined: never recorded), read under a row lock so concurrent writers see each
 * other's change.
 */
export async function upsertIntegrationStatus(
  tx: Tx,
  clientId: string,
  capability: string,
  health: { provider: string; status: string; detail: string | null },
): Promise<IntegrationStatusRow | undefined> {
  const [previous] = await tx
    .select()
    .from(integrationStatus)
    .where(and(eq(integrationStatus.clientId, clientId), eq(integrationStatus.capability, capability)))
    .for('update');
  await tx
    .insert(integrationStatus)
    .values({ clientId, capability, ...health })
    .onConflictDoUpdate({
      target: [integrationStatus.clientId, integrationStatus.capability],
      set: { provider: health.provider, status: health.status, detail: health.detail, updatedAt: new Date() },
    });
  return previous;
}

export async function findIntegrationStatus(tx: Tx, clientId: string, capability: string): Promise<IntegrationStatusRow | undefined> {
  const [row] = await tx
    .select()
    .from(integrationStatus)
    .where(and(eq(integrationStatus.clientId, clientId), eq(integrationStatus.capability, capability)));
  return row;
}
