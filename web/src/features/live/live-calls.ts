/**
 * The live view's state: the calls in progress, folded from the stream's events (live.service.ts
 * on the server says what each carries). Pure, so the folding is tested without a browser.
 */
import type { ResponseOf } from '../../lib/api.ts';

type Snapshot = { calls: LiveCall[] };
export type LiveCall = {
  call_id: string;
  agent_id: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  status: string | null;
  started_at: string | null;
  transcript: { role: string; content: string }[];
};

/** The ticket route's answer (generated from the OpenAPI document). */
export type LiveTicket = ResponseOf<'/api/clients/{clientId}/live/ticket', 'post'>;

export type LiveEvent =
  | { type: 'snapshot'; data: Snapshot }
  | { type: 'call.started' | 'call.updated'; data: LiveCall }
  | { type: 'call.ended' | 'call.completed'; data: { call_id: string } };

/** Newest first; a later event for a call replaces what was known of it. */
export function foldLive(calls: LiveCall[], event: LiveEvent): LiveCall[] {
  switch (event.type) {
    case 'snapshot': {
      const known = new Map(calls.map((c) => [c.call_id, c]));
      // A reconnect's snapshot is the truth about which calls are live; keep transcripts already heard.
      return event.data.calls.map((c) => (c.transcript.length === 0 && known.get(c.call_id) ? { ...c, transcript: known.get(c.call_id)!.transcript } : c));
    }
    case 'call.started':
    case 'call.updated': {
      const existing = calls.find((c) => c.call_id === event.data.call_id);
      if (!existing) return [event.data, ...calls];
      const next = { ...existing, ...event.data, transcript: event.data.transcript.length > 0 ? event.data.transcript : existing.transcript };
      return calls.map((c) => (c.call_id === next.call_id ? next : c));
    }
    case 'call.ended':
    case 'call.completed':
      return calls.filter((c) => c.call_id !== event.data.call_id);
  }
}

/** The caller: who called in, or who was called on an outbound call. */
export const customerNumber = (call: LiveCall) => (call.direction === 'outbound' ? call.to_number : call.from_number);
