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

/**
 * One short text that changes whenever any row is added, removed or changed (id, version and
 * updated_at of each): what a server polls to notice another process's change without Redis.
 */
export async function clientConfigsFingerprint(tx: Tx): Promise<string> {
  const [row] = await tx
    .select({
      fingerprint: sql<string>`coalesce(string_agg(${clientConfigs.id} || ':' || ${clientConfigs.version} || ':' || floor(extract(epoch from ${clientConfigs.updatedAt}) * 1000000)::bigint, ',' order by ${clientConfigs.id}), '')`,
    })
    .from(clientConfigs);
  return row?.fingerprint ?? '';
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
