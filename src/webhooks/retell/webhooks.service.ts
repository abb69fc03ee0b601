/**
 * Ingest: store the event, fold it into the call and customer rows, and enqueue the router's jobs,
 * all in one tenant transaction. A redelivered event is a no-op. No provider is called here.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { countCustomerCall, upsertCall, upsertCustomerByPhone } from '../../calls/calls.repo.ts';
import type { ServableClient } from '../../clients/clients.service.ts';
import { handlersFor } from '../../core/router.ts';
import type { Tenancy } from '../../platform/db/tenancy.ts';
import type { JobQueue } from '../../platform/queue.ts';
import { callEvents } from '../../platform/db/schema.ts';
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

export function toE164(raw: string | null | undefined, defaultCountry: string): string | undefined {
  if (!raw) return undefined;
  const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode);
  return parsed?.isValid() ? parsed.number : undefined;
}

export interface IngestDeps {
  tenancy: Tenancy;
  queue: JobQueue;
}

export async function ingestRetellEvent(
  client: ServableClient,
  parsed: StorableEvent,
  rawBody: Buffer,
  deps: IngestDeps,
): Promise<{ outcome: IngestOutcome; eventId?: string }> {
  const { callId, key } = dedupeKeyFor(parsed, rawBody);
  const payload = sanitizeForStorage(parsed.payload);
  return deps.tenancy.withTenant(client.id, async (tx) => {
    const [stored] = await tx
      .insert(callEvents)
      .values({ clientId: client.id, callId, event: parsed.event, dedupeKey: key, payload })
      .onConflictDoNothing({ target: [callEvents.clientId, callEvents.dedupeKey] })
      .returning({ id: callEvents.id });
    if (!stored) return { outcome: 'duplicate' as const };
    if (parsed.kind !== 'call') return { outcome: 'accepted' as const, eventId: stored.id };

    const call = sanitizeForStorage(parsed.call);
    const defaultCountry = client.config.sms?.default_country ?? 'US';
    const phone = toE164(callerNumber(call), defaultCountry);
    const seenAt = msToDate(call.start_timestamp) ?? new Date();
    const customerId = phone ? await upsertCustomerByPhone(tx, client.id, phone, seenAt) : null;
    const analysis = call.call_analysis ?? null;
    const { inserted } = await upsertCall(tx, client.id, {
      callId: call.call_id,
      rank: rankOf(parsed.event),
      agentId: call.agent_id,
      callType: call.call_type ?? null,
      direction: call.direction ?? null,
      fromNumber: call.from_number ?? null,
      toNumber: call.to_number ?? null,
      customerId,
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
    if (inserted && customerId) await countCustomerCall(tx, client.id, customerId);

    for (const handler of handlersFor(parsed.event)) {
      await deps.queue.enqueue(
        handler.job,
        { client_id: client.id, call_id: call.call_id, event: parsed.event, event_id: stored.id },
        { tx, key: `${client.id}:${call.call_id}:${handler.kind}:${parsed.event}` },
      );
    }
    return { outcome: 'accepted' as const, eventId: stored.id };
  });
}
