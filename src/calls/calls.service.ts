/**
 * Calls as other capabilities use them. The webhook ingest gets its statements from here: the
 * event, call and customer writes of one Retell event, for one pipelined tenant transaction.
 */
import type { DomainEventEmitter, DomainEventPayload } from '../core/domain-events.ts';
import { ingestCustomerSql } from '../customers/customers.service.ts';
import type { SqlStatement, Tx } from '../platform/db/database.ts';
import { findCall, ingestCallStatements, insertEventStatement, NEW_CALL_CUSTOMER, type CallUpsert, type EventInsert } from './calls.repo.ts';

export type { CallUpsert, EventInsert };

/** A call event: stores it, merges it into the call and upserts the caller's customer (see calls.repo.ts). */
export function callEventStatements(clientId: string, event: EventInsert, callerPhone: string | undefined, seenAt: Date, call: CallUpsert): SqlStatement[] {
  return ingestCallStatements(clientId, event, ingestCustomerSql(clientId, callerPhone, seenAt, NEW_CALL_CUSTOMER), call);
}

/** An event that belongs to no call row (call_inbound, unknown types): stored once, returning `event_id`. */
export function storedEventStatement(clientId: string, event: EventInsert): SqlStatement {
  return insertEventStatement(clientId, event);
}

/** The idempotency key of a call's `call.started`. */
export const callStartedKey = (callId: string) => `call:${callId}:started`;

/** Emits the call's `call.started` (once per call, whoever gets there first). */
export async function emitCallStarted(tx: Tx, events: DomainEventEmitter, clientId: string, payload: DomainEventPayload<'call.started'>): Promise<void> {
  const startedAt = payload.started_at ? new Date(payload.started_at) : undefined;
  await events.emit(tx, clientId, 'call.started', payload, { key: callStartedKey(payload.call_id), ...(startedAt ? { occurredAt: startedAt } : {}) });
}

/**
 * Emits `call.started` from the call row if nothing has yet: a call's later events (a booking
 * during the call, its completion) follow its start in the client's sequence even when they
 * commit before the call-started job runs. A call with no row yet starts nothing.
 */
export async function ensureCallStarted(tx: Tx, events: DomainEventEmitter, clientId: string, callId: string): Promise<void> {
  const call = await findCall(tx, clientId, callId);
  if (!call) return;
  await emitCallStarted(tx, events, clientId, {
    call_id: callId,
    agent_id: call.agentId,
    direction: call.direction,
    from_number: call.fromNumber,
    to_number: call.toNumber,
    started_at: call.startedAt ? call.startedAt.toISOString() : null,
  });
}
