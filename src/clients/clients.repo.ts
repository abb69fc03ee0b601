/**
 * The `clients` catalogue table mirrors the registry (file- and database-defined clients), so
 * SQL joins, dashboards and foreign data can name clients. It is platform-wide by nature.
 */
import { sql } from 'drizzle-orm';
import type { DomainEventEmitter } from '../core/domain-events.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { clients } from '../platform/db/schema.ts';

export interface CatalogEntry {
  id: string;
  name: string;
  status: 'active' | 'disabled' | 'invalid';
  source: 'file' | 'db';
  configHash: string;
  /** Why an invalid client is invalid (for `client.config_invalid`). */
  issues?: { path: string; message: string }[];
}

const BATCH = 500;

/**
 * Upserts entries whose hash or status changed; ids no longer configured are marked disabled. A
 * client that became invalid, or valid again, emits `client.config_invalid` / `config_restored` in
 * the same transaction (the first instance to sync a change records it; the others find it done).
 */
export async function syncClientCatalog(tenancy: Tenancy, entries: CatalogEntry[], events: DomainEventEmitter): Promise<{ written: number }> {
  return tenancy.withPlatform(async (tx) => {
    const existing = await tx
      .select({ id: clients.id, status: clients.status, configHash: clients.configHash })
      .from(clients);
    const known = new Map(existing.map((row) => [row.id, row]));
    const changed = entries.filter((e) => {
      const row = known.get(e.id);
      return !row || row.configHash !== e.configHash || row.status !== e.status;
    });
    for (let i = 0; i < changed.length; i += BATCH) {
      await tx
        .insert(clients)
        .values(changed.slice(i, i + BATCH).map(({ issues: _issues, ...row }) => row))
        .onConflictDoUpdate({
          target: clients.id,
          set: {
            name: sql`excluded.name`,
            status: sql`excluded.status`,
            source: sql`excluded.source`,
            configHash: sql`excluded.config_hash`,
            updatedAt: sql`now()`,
          },
        });
    }
    for (const entry of changed) {
      const before = known.get(entry.id);
      const transition = `${before?.configHash ?? 'new'}>${entry.configHash}`;
      if (entry.status === 'invalid' && before?.status !== 'invalid') {
        await events.emit(tx, entry.id, 'client.config_invalid', { config_hash: entry.configHash, issues: entry.issues ?? [] }, { key: `client:config_invalid:${transition}` });
      } else if (entry.status === 'active' && before?.status === 'invalid') {
        await events.emit(tx, entry.id, 'client.config_restored', { config_hash: entry.configHash }, { key: `client:config_restored:${transition}` });
      }
    }
    const configured = new Set(entries.map((e) => e.id));
    const gone = existing.filter((row) => !configured.has(row.id) && row.status !== 'disabled').map((row) => row.id);
    for (let i = 0; i < gone.length; i += BATCH) {
      await tx
        .update(clients)
        .set({ status: 'disabled', updatedAt: sql`now()` })
        .where(sql`${clients.id} in ${gone.slice(i, i + BATCH)}`);
    }
    return { written: changed.length + gone.length };
  });
}
