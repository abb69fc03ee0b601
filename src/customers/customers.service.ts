/**
 * The customers capability as other folders use it: every customer write goes through here to
 * customers.repo.ts, inside the caller's tenant transaction.
 */
import type { Tx } from '../platform/db/database.ts';
import type { SQL } from 'drizzle-orm';
import { countNewCallSql, findCustomer, findCustomerByPhone, setCustomerContact, setOptedOut, upsertCustomerByPhone, upsertCustomerForEventSql } from './customers.repo.ts';

export { upsertCustomerByPhone as upsertCustomer, setCustomerContact, findCustomer, findCustomerByPhone };

/** Whether the customer has opted out of texts (false when there is no such customer). */
export async function isOptedOut(tx: Tx, clientId: string, customerId: string): Promise<boolean> {
  return Boolean((await findCustomer(tx, clientId, customerId))?.optedOutAt);
}

/** Marks the customer opted out (or back in); true when this changed their state. */
export async function changeOptOut(tx: Tx, clientId: string, customerId: string, optedOut: boolean): Promise<boolean> {
  return (await setOptedOut(tx, clientId, customerId, optedOut)) !== undefined;
}

/** The customer half of the call-event ingest statement (see calls.repo.ts ingestCallStatements). */
export function ingestCustomerSql(clientId: string, phone: string | undefined, seenAt: Date, newCallSetting: string): { upsert: SQL; countNewCall: SQL } {
  return { upsert: upsertCustomerForEventSql(clientId, phone, seenAt), countNewCall: countNewCallSql(clientId, newCallSetting) };
}
