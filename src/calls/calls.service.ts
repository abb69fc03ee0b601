/**
 * Calls as other capabilities use them. The webhook ingest gets its statements from here: the
 * event, call and customer writes of one Retell event, for one pipelined tenant transaction.
 */
import type { SqlStatement } from '../platform/db/database.ts';
import { ingestCustomerSql } from '../customers/customers.service.ts';
import { ingestCallStatements, insertEventStatement, NEW_CALL_CUSTOMER, type CallUpsert, type EventInsert } from './calls.repo.ts';

export type { CallUpsert, EventInsert };

/** A call event: stores it, merges it into the call and upserts the caller's customer (see calls.repo.ts). */
export function callEventStatements(clientId: string, event: EventInsert, callerPhone: string | undefined, seenAt: Date, call: CallUpsert): SqlStatement[] {
  return ingestCallStatements(clientId, event, ingestCustomerSql(clientId, callerPhone, seenAt, NEW_CALL_CUSTOMER), call);
}

/** An event that belongs to no call row (call_inbound, unknown types): stored once, returning `event_id`. */
export function storedEventStatement(clientId: string, event: EventInsert): SqlStatement {
  return insertEventStatement(clientId, event);
}
