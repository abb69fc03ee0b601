/**
 * Database-backed client configs (platform table: secrets are sealed, tenants never read it).
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { clientConfigs } from '../platform/db/schema.ts';

export type ClientConfigRow = typeof clientConfigs.$inferSelect;

export async function listClientConfigs(tx: Tx): Promise<ClientConfigRow[]> {
  return tx.select().from(clientConfigs).orderBy(asc(clientConfigs.id));
}

export async function findClientConfig(tx: Tx, id: string, options: { forUpdate?: boolean } = {}): Promise<ClientConfigRow | undefined> {
  const query = tx.select().from(clientConfigs).where(eq(clientConfigs.id, id)).limit(1);
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

/** undefined when the id already exists. */
export async function insertClientConfig(tx: Tx, id: string, config: unknown, actorId: string | null): Promise<ClientConfigRow | undefined> {
  const [row] = await tx
    .insert(clientConfigs)
    .values({ id, config, createdBy: actorId, updatedBy: actorId })
    .onConflictDoNothing({ target: clientConfigs.id })
    .returning();
  return row;
}

export async function updateClientConfig(
  tx: Tx,
  id: string,
  config: unknown,
  actorId: string | null,
  options: { bumpVersion: boolean },
): Promise<ClientConfigRow> {
  const [row] = await tx
    .update(clientConfigs)
    .set({
      config,
      updatedBy: actorId,
      updatedAt: sql`now()`,
      ...(options.bumpVersion ? { version: sql`${clientConfigs.version} + 1` } : {}),
    })
    .where(eq(clientConfigs.id, id))
    .returning();
  if (row === undefined) throw new Error(`client config ${id} vanished inside its transaction`);
  return row;
}
