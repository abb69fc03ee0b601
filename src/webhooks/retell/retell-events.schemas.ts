/**
 * What Retell sends to /api/webhooks/retell/{client-id} (../shared/reference/retell.md §1, §3, §8).
 * Objects are loose: Retell adds fields, and we keep the whole payload in call_events. The fields
 * we store as columns are typed; anything else is carried along untouched.
 */
import { z } from 'zod';
import { findInputProblem, storableText } from '../../platform/input-rules.ts';

/** Lifecycle events and their order: a later event's data is never overwritten by an earlier one. */
export const LIFECYCLE_RANK = { call_started: 1, call_ended: 2, call_analyzed: 3 } as const;
export type LifecycleEvent = keyof typeof LIFECYCLE_RANK;

export const TRANSFER_EVENTS = ['transfer_started', 'transfer_bridged', 'transfer_cancelled', 'transfer_ended'] as const;
export const KNOWN_CALL_EVENTS = [...(Object.keys(LIFECYCLE_RANK) as LifecycleEvent[]), 'transcript_updated', ...TRANSFER_EVENTS] as const;
export type KnownCallEvent = (typeof KNOWN_CALL_EVENTS)[number];

const shortText = (max: number) => z.string().max(max);
/** Identifiers become columns and keys: they follow the input rule (400), free text is cleaned instead. */
const identifier = (max: number) => storableText().max(max);
const timestampMs = z.number().int().nonnegative().max(8_640_000_000_000);

export const callAnalysisSchema = z.looseObject({
  call_summary: z.string().max(100_000).optional(),
  user_sentiment: shortText(64).optional(),
  call_successful: z.boolean().optional(),
  in_voicemail: z.boolean().optional(),
  custom_analysis_data: z.record(z.string(), z.unknown()).optional(),
});

export const retellCallSchema = z.looseObject({
  call_id: identifier(200).min(1),
  agent_id: identifier(200).min(1),
  call_type: shortText(64).optional(),
  agent_version: z.number().int().optional(),
  call_status: shortText(64).optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  from_number: shortText(64).nullish(),
  to_number: shortText(64).nullish(),
  start_timestamp: timestampMs.nullish(),
  end_timestamp: timestampMs.nullish(),
  duration_ms: z.number().int().nonnegative().nullish(),
  disconnection_reason: shortText(200).nullish(),
  transcript: z.string().nullish(),
  transcript_object: z.array(z.unknown()).nullish(),
  transcript_with_tool_calls: z.array(z.unknown()).nullish(),
  recording_url: shortText(4096).nullish(),
  public_log_url: shortText(4096).nullish(),
  metadata: z.unknown().optional(),
  retell_llm_dynamic_variables: z.record(z.string(), z.unknown()).nullish(),
  call_analysis: callAnalysisSchema.nullish(),
  call_cost: z.unknown().optional(),
});
export type RetellCall = z.infer<typeof retellCallSchema>;

export const callInboundSchema = z.looseObject({
  from_number: shortText(64),
  to_number: shortText(64),
  agent_id: identifier(200).optional(),
  agent_version: z.number().int().optional(),
  call_id: identifier(200).optional(),
  custom_sip_headers: z.record(z.string(), z.unknown()).nullish(),
});
export type CallInbound = z.infer<typeof callInboundSchema>;

const eventName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase event name');

/** Any envelope: the event name decides which body is required. */
export const retellEnvelopeSchema = z.looseObject({
  event: eventName,
  event_timestamp: timestampMs.optional(),
  call: z.unknown().optional(),
  call_inbound: z.unknown().optional(),
});

export type ParsedEvent =
  | { kind: 'call'; event: string; known: boolean; call: RetellCall; payload: Record<string, unknown> }
  | { kind: 'inbound'; event: 'call_inbound'; inbound: CallInbound; eventTimestamp?: number; payload: Record<string, unknown> }
  | { kind: 'other'; event: string; payload: Record<string, unknown> };

function firstIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? [])].filter((p) => p !== '').join('.');
  return `${path || 'body'}: ${issue?.message ?? 'invalid'}`;
}

/** Validates a parsed JSON body; returns a message naming the field when it is not an event. */
export function parseRetellEvent(body: unknown): { ok: true; value: ParsedEvent } | { ok: false; message: string } {
  const tooDeep = findInputProblem(body, 'body', { depthOnly: true });
  if (tooDeep) return { ok: false, message: tooDeep };
  const envelope = retellEnvelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, message: firstIssue(envelope.error, '') };
  const payload = envelope.data as Record<string, unknown>;
  const { event } = envelope.data;
  if (event === 'call_inbound') {
    const inbound = callInboundSchema.safeParse(envelope.data.call_inbound);
    if (!inbound.success) return { ok: false, message: firstIssue(inbound.error, 'call_inbound') };
    return {
      ok: true,
      value: {
        kind: 'inbound',
        event,
        inbound: inbound.data,
        ...(envelope.data.event_timestamp !== undefined ? { eventTimestamp: envelope.data.event_timestamp } : {}),
        payload,
      },
    };
  }
  const known = (KNOWN_CALL_EVENTS as readonly string[]).includes(event);
  if (known || envelope.data.call !== undefined) {
    const call = retellCallSchema.safeParse(envelope.data.call);
    if (!call.success) return { ok: false, message: firstIssue(call.error, 'call') };
    return { ok: true, value: { kind: 'call', event, known, call: call.data, payload } };
  }
  // An event type Retell added after this code was written, without a call object (e.g. chat_*).
  return { ok: true, value: { kind: 'other', event, payload } };
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and jsonb rejects lone surrogates. Signatures are
 * checked on the raw bytes first; what we store replaces those code points with U+FFFD.
 */
export function sanitizeForStorage<T>(value: T): T {
  if (typeof value === 'string') return storableCopy(value) as T;
  if (value === null || typeof value !== 'object') return value;
  // Iterative: a payload nested thousands deep cannot exhaust the stack.
  const root: Record<string, unknown> = Array.isArray(value) ? ([] as unknown as Record<string, unknown>) : {};
  const work: [source: object, target: Record<string, unknown>][] = [[value, root]];
  while (work.length > 0) {
    const [source, target] = work.pop()!;
    const isArray = Array.isArray(source);
    for (const [key, child] of Object.entries(source)) {
      let copy: unknown = child;
      if (typeof child === 'string') copy = storableCopy(child);
      else if (child !== null && typeof child === 'object') {
        const nested: Record<string, unknown> = Array.isArray(child) ? ([] as unknown as Record<string, unknown>) : {};
        work.push([child, nested]);
        copy = nested;
      }
      const name = isArray ? key : storableCopy(key);
      // defineProperty for "__proto__": the key stays data, never becomes the copy's prototype.
      if (name === '__proto__') Object.defineProperty(target, name, { value: copy, enumerable: true, writable: true, configurable: true });
      else target[name] = copy;
    }
  }
  return root as T;
}

function storableCopy(text: string): string {
  const cleaned = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return cleaned.isWellFormed() ? cleaned : cleaned.toWellFormed();
}
