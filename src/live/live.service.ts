/**
 * One live stream: a client's calls in progress, as server-sent events. It opens with a snapshot
 * of the calls in progress, then hears the client's domain events through the in-process feed
 * (deps.eventFeed, which polls the outbox by seq) and forwards call.started and call.completed
 * with their seq as the event id. Every `pollMs` it also reads the calls in progress and the
 * calls it announced: a call whose row the webhook wrote before its call.started event left the
 * queue is announced at once (its event then only moves the id), a changed status or live
 * transcript (Retell's transcript_updated lands in the row) is sent as call.updated, and
 * call.ended once Retell ends it. Transport-agnostic: it
 * writes SSE frames through `write`; the route owns the HTTP response.
 */
import type { DomainEvent } from '../core/domain-events.ts';
import type { DomainEventFeed } from '../core/outbox.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { liveCallRows, liveOrFollowedRows, latestEventSeq, LIVE_CALL_MAX_HOURS, type LiveCallRow } from './live.repo.ts';
import type { LiveCall } from './live.schemas.ts';

/** Utterances sent per call: the end of the conversation is what a person watching reads. */
const TRANSCRIPT_TAIL = 40;

export interface LiveStreamDeps {
  tenancy: Tenancy;
  eventFeed: Pick<DomainEventFeed, 'listen'>;
  onError?: (error: unknown) => void;
}

export interface LiveStreamOptions {
  /** Resume after this seq (Last-Event-ID); undefined starts at the client's latest event. */
  afterSeq: number | undefined;
  /** How often the followed calls' rows are read, ms. */
  pollMs?: number;
  /** How often a comment keeps the connection open through proxies, ms. */
  heartbeatMs?: number;
}

const toIso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function utterances(transcriptObject: unknown): LiveCall['transcript'] {
  if (!Array.isArray(transcriptObject)) return [];
  const out: LiveCall['transcript'] = [];
  for (const item of transcriptObject.slice(-TRANSCRIPT_TAIL)) {
    if (typeof item !== 'object' || item === null) continue;
    const { role, content } = item as { role?: unknown; content?: unknown };
    if (typeof role === 'string' && typeof content === 'string') out.push({ role, content });
  }
  return out;
}

export function liveCallOf(row: LiveCallRow): LiveCall {
  return {
    call_id: row.call_id,
    agent_id: row.agent_id,
    direction: row.direction,
    from_number: row.from_number,
    to_number: row.to_number,
    status: row.status,
    started_at: toIso(row.started_at),
    transcript: utterances(row.transcript_object),
  };
}

/** Ended: Retell's call_ended or call_analyzed was applied, or its status says the call is over. */
const hasEnded = (row: LiveCallRow) => row.lifecycle_rank >= 2 || (row.status !== null && !['registered', 'ongoing'].includes(row.status));

/** One SSE frame. Data is JSON on one line, so no line of it can end the frame early. */
export function sseFrame(event: string | undefined, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}${event !== undefined ? `event: ${event}\n` : ''}${data !== undefined ? `data: ${JSON.stringify(data)}\n` : ''}\n`;
}

/**
 * Starts the stream and returns its stop function. `write` gets whole frames; it must not throw.
 */
export async function openLiveStream(
  deps: LiveStreamDeps,
  clientId: string,
  write: (frame: string) => void,
  options: LiveStreamOptions,
): Promise<() => void> {
  const pollMs = options.pollMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  // The seq is read before the snapshot: a call starting between the two is in both, never in neither.
  const { afterSeq, snapshot } = await deps.tenancy.withTenant(clientId, async (tx) => ({
    afterSeq: options.afterSeq ?? (await latestEventSeq(tx, clientId)),
    snapshot: await liveCallRows(tx, clientId),
  }));
  /** Calls followed: call id → the change stamp last sent ('' until the first read). */
  const followed = new Map<string, { changedAt: string; since: number }>();
  let stopped = false;

  write('retry: 3000\n\n');
  write(sseFrame('snapshot', { calls: snapshot.map(liveCallOf) }));
  for (const row of snapshot) followed.set(row.call_id, { changedAt: row.changed_at, since: Date.now() });

  const onEvents = (events: DomainEvent[]) => {
    if (stopped) return;
    for (const event of events) {
      if (event.type === 'call.started') {
        const payload = event.payload as DomainEvent<'call.started'>['payload'];
        if (followed.has(payload.call_id)) {
          // The row was seen first (below): already announced, only the id moves.
          write(`id: ${event.seq}\n\n`);
          continue;
        }
        const call: LiveCall = { ...payload, status: 'ongoing', transcript: [] };
        write(sseFrame('call.started', call, event.seq));
        followed.set(payload.call_id, { changedAt: '', since: Date.now() });
      } else if (event.type === 'call.completed') {
        write(sseFrame('call.completed', event.payload, event.seq));
        followed.delete((event.payload as DomainEvent<'call.completed'>['payload']).call_id);
      } else {
        // Not a call event: only the id moves, so a resume starts after it.
        write(`id: ${event.seq}\n\n`);
      }
    }
  };
  const stopFeed = deps.eventFeed.listen(clientId, afterSeq, onEvents);

  let polling = false;
  const poll = async () => {
    if (polling || stopped) return;
    polling = true;
    try {
      const rows = await deps.tenancy.withTenant(clientId, (tx) => liveOrFollowedRows(tx, clientId, [...followed.keys()]));
      if (stopped) return;
      for (const row of rows) {
        const seen = followed.get(row.call_id);
        if (!seen) {
          // A call whose row the webhook ingest just wrote, before the call-started job's domain
          // event (a queue hop later) arrives: announced now, so a call shows within one poll.
          if (!hasEnded(row)) {
            write(sseFrame('call.started', liveCallOf(row)));
            followed.set(row.call_id, { changedAt: row.changed_at, since: Date.now() });
          }
          continue;
        }
        if (hasEnded(row)) {
          write(sseFrame('call.ended', { call_id: row.call_id, status: row.status }));
          followed.delete(row.call_id);
        } else if (row.changed_at > seen.changedAt) {
          seen.changedAt = row.changed_at;
          write(sseFrame('call.updated', liveCallOf(row)));
        }
      }
      // A call Retell never ended stops being followed after the hours a live call may last.
      const cutoff = Date.now() - LIVE_CALL_MAX_HOURS * 3_600_000;
      for (const [callId, seen] of followed) if (seen.since < cutoff) followed.delete(callId);
    } catch (error) {
      deps.onError?.(error);
    } finally {
      polling = false;
    }
  };
  const pollTimer = setInterval(() => void poll(), pollMs);
  const heartbeatTimer = setInterval(() => write(': ping\n\n'), heartbeatMs);
  pollTimer.unref();
  heartbeatTimer.unref();

  return () => {
    if (stopped) return;
    stopped = true;
    stopFeed();
    clearInterval(pollTimer);
    clearInterval(heartbeatTimer);
  };
}
