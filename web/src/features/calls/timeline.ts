/** What happened around a call, in order: webhook events, the agent's function calls, messages, the booking. */
import { humanize } from '../../lib/format.ts';
import type { CallDetail } from './calls.queries.ts';

export interface TimelineEntry {
  at: string;
  kind: 'event' | 'function' | 'message' | 'appointment';
  title: string;
  detail: string | null;
  tone: 'neutral' | 'good' | 'bad' | 'warn';
}

const EVENT_TITLES: Record<string, string> = {
  call_inbound: 'Call came in',
  call_started: 'Call connected',
  call_ended: 'Call ended',
  call_analyzed: 'Call analysed',
  transcript_updated: 'Transcript updated',
};

const MESSAGE_TONE: Record<string, TimelineEntry['tone']> = { delivered: 'good', sent: 'good', failed: 'bad', unknown: 'warn', held: 'warn', suppressed: 'warn' };

export function callTimeline(call: CallDetail): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const event of call.events) {
    entries.push({ at: event.received_at, kind: 'event', title: EVENT_TITLES[event.event] ?? humanize(event.event), detail: null, tone: 'neutral' });
  }
  for (const fn of call.function_calls) {
    entries.push({
      at: fn.created_at,
      kind: 'function',
      title: `Agent used ${humanize(fn.name).toLowerCase()}`,
      detail: `${fn.outcome === 'ok' ? 'answered' : `failed (${fn.error_code ?? 'error'})`} in ${fn.latency_ms} ms`,
      tone: fn.outcome === 'ok' ? 'neutral' : 'bad',
    });
  }
  for (const message of call.messages) {
    const channel = message.channel === 'sms' ? 'Text' : 'Email';
    const when = message.delivered_at ?? message.sent_at ?? message.created_at;
    entries.push({
      at: when,
      kind: 'message',
      title: `${channel} ${humanize(message.kind).toLowerCase()} to ${message.to_address}`,
      detail: [humanize(message.status), message.error_message].filter(Boolean).join(': '),
      tone: MESSAGE_TONE[message.status] ?? 'neutral',
    });
  }
  if (call.appointment) {
    entries.push({
      at: call.appointment.created_at,
      kind: 'appointment',
      title: call.appointment.status === 'cancelled' ? 'Appointment booked, later cancelled' : 'Appointment booked',
      detail: call.appointment.reason,
      tone: call.appointment.status === 'cancelled' ? 'warn' : 'good',
    });
  }
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
