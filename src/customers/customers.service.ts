/**
 * The customers capability as other folders use it: every customer write goes through here to
 * customers.repo.ts, inside the caller's tenant transaction.
 */
import type { Tx } from '../platform/db/database.ts';
import type { SQL } from 'drizzle-orm';
import type { DomainEventEmitter } from '../core/domain-events.ts';
import { countNewCallSql, findCustomer, findCustomerByPhone, setCustomerContact, setOptedOut, upsertCustomerByPhone, upsertCustomerForEventSql } from './customers.repo.ts';

export { upsertCustomerByPhone as upsertCustomer, setCustomerContact, findCustomer, findCustomerByPhone };

/** Whether the customer has opted out of texts (false when there is no such customer). */
export async function isOptedOut(tx: Tx, clientId: string, customerId: string): Promise<boolean> {
  return Boolean((await findCustomer(tx, clientId, customerId))?.optedOutAt);
}

/**
 * Marks the customer opted out of texts (or back in) and emits `customer.opted_out` /
 * `customer.opted_in` when this changed their state; true when it did.
 */
export async function changeOptOut(
  tx: Tx,
  clientId: string,
  customerId: string,
  optedOut: boolean,
  options: { events: DomainEventEmitter; source: 'sms_keyword' | 'provider' },
): Promise<boolean> {
  const changed = await setOptedOut(tx, clientId, customerId, optedOut);
  if (!changed) return false;
  // Opting out and back in may happen many times: each change is named by the opt-out it concerns.
  const key = `customer:${customerId}:${optedOut ? 'opted_out' : 'opted_in'}:${changed.optedOutAt.toISOString()}`;
  if (optedOut) {
    await options.events.emit(tx, clientId, 'customer.opted_out', { customer_id: customerId, phone: changed.phone, source: options.source }, { key });
  } else {
    await options.events.emit(tx, clientId, 'customer.opted_in', { customer_id: customerId, phone: changed.phone, source: 'sms_keyword' }, { key });
  }
  return true;
}

/** The customer half of the call-event ingest statement (see calls.repo.ts ingestCallStatements). */
export function ingestCustomerSql(clientId: string, phone: string | undefined, seenAt: Date, newCallSetting: string): { upsert: SQL; countNewCall: SQL } {
  return { upsert: upsertCustomerForEventSql(clientId, phone, seenAt), countNewCall: countNewCallSql(clientId, newCallSetting) };
}
