/**
 * Ingest: store the event, fold it into the call and customer rows, and enqueue the router's jobs,
 * all in one tenant transaction. A redelivered event is a no-op. No provider is called here.
 */
import { createHash, randomUUID } from 'node:crypto';
import { defaultCountryOf, type ServableClient } from '../../clients/client.schema.ts';
import { toE164 } from '../../customers/phone.ts';
import { callEventStatements, storedEventStatement } from '../../calls/calls.service.ts';
import { eventJobKey } from '../../core/event-job.ts';
import { jobsFor } from '../../core/router.ts';
import type { Tenancy } from '../../platform/db/tenancy.ts';
import type { JobQueue } from '../../platform/queue.ts';
import { withSpan } from '../../platform/tracing.ts';
import {
  LIFECYCLE_RANK,
  TRANSFER_EVENTS,
  sanitizeForStorage,
  type ParsedEvent,
  type RetellCall,
} from './retell-events.schemas.ts';

export type IngestOutcome = 'accepted' | 'duplicate';

type StorableEvent = Exclude<ParsedEvent, { kind: 'inbound' }> | Extract<ParsedEvent, { kind: 'inbound' }>;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 32);

/**
 * What makes two deliveries "the same event" (Retell's own guidance): event + call for lifecycle
 * events; plus destination and start for transfers; the exact bytes for many-per-call events.
 */
export function dedupeKeyFor(parsed: StorableEvent, rawBody: Buffer): { callId: string; key: string } {
  switch (parsed.kind) {
    case 'call': {
      const { event, call } = parsed;
      if (event in LIFECYCLE_RANK) return { callId: call.call_id, key: `${event}:${call.call_id}` };
      if ((TRANSFER_EVENTS as readonly string[]).includes(event)) {
        const destination = typeof parsed.payload.transfer_destination === 'string' ? parsed.payload.transfer_destination : '';
        return { callId: call.call_id, key: `${event}:${call.call_id}:${destination}:${call.start_timestamp ?? ''}` };
      }
      return { callId: call.call_id, key: `${event}:${call.call_id}:${sha256(rawBody)}` };
    }
    case 'inbound': {
      const { inbound } = parsed;
      const callId = inbound.call_id ?? '';
      const identity = inbound.call_id ?? `${inbound.from_number}:${inbound.to_number}:${parsed.eventTimestamp ?? sha256(rawBody)}`;
      return { callId, key: `call_inbound:${identity}` };
    }
    case 'other':
      return { callId: '', key: `${parsed.event}:${sha256(rawBody)}` };
  }
}

/** transcript_updated and transfers carry live data: they rank with call_started. */
function rankOf(event: string): number {
  if (event in LIFECYCLE_RANK) return LIFECYCLE_RANK[event as keyof typeof LIFECYCLE_RANK];
  if (event === 'transcript_updated' || (TRANSFER_EVENTS as readonly string[]).includes(event)) return 1;
  return 0;
}

const msToDate = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms));

function callerNumber(call: RetellCall): string | null | undefined {
  return call.direction === 'outbound' ? call.to_number : call.from_number;
}

export interface IngestDeps {
  tenancy: Tenancy;
  queue: JobQueue;
}

/**
 * Stores the event, folds it into the call and customer rows and enqueues the router's jobs in one
 * tenant transaction, sent as one batch (one round trip on PostgreSQL). The job statements go
 * out with the rest: for a duplicate they change nothing, because a job's id is derived from
 * (client, call, kind, event) and pg-boss skips an id it already has.
 */
export async function ingestRetellEvent(
  client: ServableClient,
  parsed: StorableEvent,
  rawBody: Buffer,
  deps: IngestDeps,
): Promise<{ outcome: IngestOutcome; eventId?: string }> {
  return withSpan('retell.ingest', { attributes: { 'retell.event': parsed.event } }, async (span) => {
    const result = await storeAndEnqueue(client, parsed, rawBody, deps);
    span.setAttribute('xlnc.ingest.outcome', result.outcome);
    return result;
  });
}

async function storeAndEnqueue(client: ServableClient, parsed: StorableEvent, rawBody: Buffer, deps: IngestDeps): Promise<{ outcome: IngestOutcome; eventId?: string }> {
  const { callId, key } = dedupeKeyFor(parsed, rawBody);
  const event = { eventId: randomUUID(), callId, event: parsed.event, dedupeKey: key, payload: sanitizeForStorage(parsed.payload) };

  if (parsed.kind !== 'call') {
    const [stored] = await deps.tenancy.batchAsTenant(client.id, [storedEventStatement(client.id, event)]);
    return stored?.rows.length ? { outcome: 'accepted', eventId: event.eventId } : { outcome: 'duplicate' };
  }

  const call = sanitizeForStorage(parsed.call);
  const analysis = call.call_analysis ?? null;
  const ingest = callEventStatements(client.id, event, toE164(callerNumber(call), defaultCountryOf(client.config)), msToDate(call.start_timestamp) ?? new Date(), {
    callId: call.call_id,
    rank: rankOf(parsed.event),
    agentId: call.agent_id,
    callType: call.call_type ?? null,
    direction: call.direction ?? null,
    fromNumber: call.from_number ?? null,
    toNumber: call.to_number ?? null,
    status: call.call_status ?? null,
    startedAt: msToDate(call.start_timestamp),
    endedAt: msToDate(call.end_timestamp),
    durationMs: call.duration_ms ?? null,
    disconnectionReason: call.disconnection_reason ?? null,
    transcript: call.transcript ?? null,
    transcriptObject: call.transcript_object ?? null,
    recordingUrl: call.recording_url ?? null,
    publicLogUrl: call.public_log_url ?? null,
    analysis,
    summary: analysis?.call_summary ?? null,
    sentiment: analysis?.user_sentiment ?? null,
    successful: analysis?.call_successful ?? null,
    metadata: call.metadata ?? null,
    dynamicVariables: call.retell_llm_dynamic_variables ?? null,
    cost: call.call_cost ?? null,
  });
  const jobs = await Promise.all(
    jobsFor(parsed.event).map((job) =>
      deps.queue.enqueueStatement(
        job,
        { client_id: client.id, call_id: call.call_id, event: parsed.event, event_id: event.eventId },
        { key: eventJobKey(client.id, call.call_id, job.kind, parsed.event) },
      ),
    ),
  );
  const [stored] = await deps.tenancy.batchAsTenant(client.id, [...ingest, ...jobs]);
  return stored?.rows.length ? { outcome: 'accepted', eventId: event.eventId } : { outcome: 'duplicate' };
}
