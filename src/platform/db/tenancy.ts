/**
 * The two ways to touch the database. `withTenant` is the default: it runs the work in a
 * transaction as the non-owner role `xlnc_app` with `app.client_id` set for that transaction only,
 * so row-level security hides every other client's rows even when a query forgets its WHERE.
 * `withPlatform` is cross-client work (catalogue sync, operator views), named so reviewers can grep it.
 */
import { sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';

export const TENANT_ROLE = 'xlnc_app';

export interface Tenancy {
  withTenant<T>(clientId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  withPlatform<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function createTenancy(db: Db): Tenancy {
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
    withPlatform(work) {
      return db.transaction(work);
    },
  };
}
