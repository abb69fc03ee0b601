/**
 * Shapes of the live view: the ticket, the stream's query, and the data of each server-sent event
 * (documented here; the stream itself is text/event-stream).
 */
import { z } from 'zod';

export const liveTicketSchema = z.object({
  ticket: z.string().describe('Pass as `ticket` to GET …/live within 60 seconds.'),
  expires_at: z.string().describe('ISO-8601, UTC.'),
});

export const liveStreamQuery = z.object({
  ticket: z.string().min(1).max(2000).describe('From POST …/live/ticket (EventSource cannot send an Authorization header).'),
  last_event_id: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .describe('Resume after this event id (the `id` of the last event received); the Last-Event-ID header does the same.'),
});

export const liveUtterance = z.object({ role: z.string(), content: z.string() });

export const liveCallSchema = z.object({
  call_id: z.string(),
  agent_id: z.string().nullable(),
  direction: z.string().nullable(),
  from_number: z.string().nullable(),
  to_number: z.string().nullable(),
  status: z.string().nullable(),
  started_at: z.string().nullable(),
  transcript: z.array(liveUtterance).describe('The latest utterances (at most 40), as Retell last sent them.'),
});
export type LiveCall = z.infer<typeof liveCallSchema>;

export const LIVE_STREAM_DESCRIPTION =
  'Server-sent events (text/event-stream). `snapshot` first ({ calls: LiveCall[] }, the calls in progress), then as they happen: ' +
  '`call.started` (LiveCall; `id` is the client\'s domain event seq, so a reconnect resumes after it), `call.updated` ' +
  '(LiveCall: status or live transcript changed, from Retell\'s transcript_updated), `call.ended` ({ call_id, status }), ' +
  '`call.completed` (the call.completed domain event\'s payload). A comment line every 15 s keeps proxies from closing it. ' +
  'Other domain events advance the `id` without data.';
