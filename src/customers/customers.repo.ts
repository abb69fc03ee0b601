/**
 * Customers (people who called a client, keyed by E.164 phone within that client): every write to
 * the `customers` table is here, inside the caller's tenant transaction.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../platform/db/database.ts';
import { customers } from '../platform/db/schema.ts';

/**
 * The body of the ingest's `customer` CTE: upserts the caller's customer when the CTE named
 * `event` stored a row (a redelivery stores none, so writes nothing), returning its id.
 */
export function upsertCustomerForEventSql(clientId: string, phone: string | undefined, seenAt: Date): SQL {
  return sql`
      insert into customers (client_id, phone, last_call_at)
      select ${clientId}, ${phone ?? null}::text, ${seenAt.toISOString()}::timestamptz from event where ${phone ?? null}::text is not null
      on conflict (client_id, phone) do update
        set last_call_at = greatest(customers.last_call_at, excluded.last_call_at), updated_at = now()
      returning id`;
}

/** Counts a new call on the customer the ingest statement passed through `setting`. */
export function countNewCallSql(clientId: string, setting: string): SQL {
  return sql`
    update customers set call_count = call_count + 1
    where client_id = ${clientId} and id = nullif(current_setting(${setting}, true), '')::uuid`;
}

/** Upserts the customer by (client, E.164 phone); returns its id. */
export async function upsertCustomerByPhone(tx: Tx, clientId: string, phone: string, seenAt: Date): Promise<string> {
  const [row] = await tx
    .insert(customers)
    .values({ clientId, phone, lastCallAt: seenAt })
    .onConflictDoUpdate({
      target: [customers.clientId, customers.phone],
      set: {
        lastCallAt: sql`greatest(customers.last_call_at, excluded.last_call_at)`,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: customers.id });
  if (!row) throw new Error('customer upsert returned no row');
  return row.id;
}

export async function setCustomerContact(tx: Tx, clientId: string, id: string, contact: { name: string; email?: string | undefined }): Promise<void> {
  await tx
    .update(customers)
    .set({ name: contact.name, ...(contact.email ? { email: contact.email } : {}), updatedAt: sql`now()` })
    .where(and(eq(customers.clientId, clientId), eq(customers.id, id)));
}

/**
 * Records an opt-out (now) or an opt-in (cleared). Returns the customer and the opt-out time the
 * change concerns (the new one, or the one an opt-in cleared) when this changed its state;
 * undefined when it already was so, or there is no such customer.
 */
export async function setOptedOut(tx: Tx, clientId: string, id: string, optedOut: boolean): Promise<{ phone: string; optedOutAt: Date } | undefined> {
  const [current] = await tx
    .select({ phone: customers.phone, optedOutAt: customers.optedOutAt })
    .from(customers)
    .where(and(eq(customers.clientId, clientId), eq(customers.id, id)))
    .for('update');
  if (!current || (current.optedOutAt !== null) === optedOut) return undefined;
  const [row] = await tx
    .update(customers)
    .set({ optedOutAt: optedOut ? sql`now()` : null, updatedAt: sql`now()` })
    .where(and(eq(customers.clientId, clientId), eq(customers.id, id)))
    .returning({ optedOutAt: customers.optedOutAt });
  const at = optedOut ? row?.optedOutAt : current.optedOutAt;
  return at ? { phone: current.phone, optedOutAt: at } : undefined;
}

export async function findCustomer(tx: Tx, clientId: string, id: string) {
  const [row] = await tx.select().from(customers).where(and(eq(customers.clientId, clientId), eq(customers.id, id)));
  return row;
}

export async function findCustomerByPhone(tx: Tx, clientId: string, phone: string) {
  const [row] = await tx.select().from(customers).where(and(eq(customers.clientId, clientId), eq(customers.phone, phone)));
  return row;
}
