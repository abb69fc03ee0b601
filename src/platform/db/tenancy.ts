/**
 * The two ways to touch the database. `withTenant` is the default: it runs the work in a
 * transaction as the non-owner role `xlnc_app` with `app.client_id` set for that transaction only,
 * so row-level security hides every other client's rows even when a query forgets its WHERE.
 * `batchAsTenant` is the same transaction for a fixed list of statements, sent at once (the
 * webhook hot path). `withPlatform` is cross-client work (catalogue sync, operator views), named so
 * reviewers can grep it.
 */
import { sql } from 'drizzle-orm';
import type { Database, SqlStatement, Tx } from './database.ts';

export const TENANT_ROLE = 'xlnc_app';

export interface Tenancy {
  withTenant<T>(clientId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs the statements in one tenant transaction; returns each statement's rows, in order. */
  batchAsTenant(clientId: string, statements: readonly SqlStatement[]): Promise<{ rows: unknown[] }[]>;
  withPlatform<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

const SET_TENANT = "select set_config('app.client_id', $1, true), set_config('role', $2, true)";

export function createTenancy(database: Pick<Database, 'db' | 'batch'>): Tenancy {
  const { db } = database;
  return {
    withTenant(clientId, work) {
      if (!clientId) throw new Error('withTenant needs a client id');
      return db.transaction(async (tx) => {
        // One round trip: both settings are transaction-local (is_local = true).
        await tx.execute(
          sql`select set_config('app.client_id', ${clientId}, true), set_config('role', ${TENANT_ROLE}, true)`,
        );
        return work(tx);
      });
    },
    async batchAsTenant(clientId, statements) {
      if (!clientId) throw new Error('batchAsTenant needs a client id');
      const [, ...results] = await database.batch([{ text: SET_TENANT, params: [clientId, TENANT_ROLE] }, ...statements]);
      return results;
    },
    withPlatform(work) {
      return db.transaction(work);
    },
  };
}
