/**
 * The live stream (GET /api/clients/:clientId/live): a call appears within 1 s of Retell's
 * call_started, through the call-started job's domain event and the outbox feed; transcript_updated
 * shows as call.updated; call_ended as call.ended. Tickets: 60 s, one client, never an access
 * token. Client B's stream never carries client A's call. Resume by Last-Event-ID; the stream ends
 * when the server closes.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { dropSchema } from '../../test/helpers/test-db.ts';
import { startWorkers } from '../core/dispatch.ts';
import { JOB_CATALOGUE } from '../core/router.ts';
import { sqlRows } from '../platform/db/database.ts';
import { issueLiveTicket } from './live-ticket.ts';

interface Frame {
  id?: string;
  event?: string;
  data?: unknown;
  at: number;
}

/** Reads an SSE response into frames as they arrive. */
function readFrames(body: ReadableStream<Uint8Array>) {
  const frames: Frame[] = [];
  let comments = 0;
  let ended = false;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    for (;;) {
      const { value, done: finished } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (finished) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const frame: Frame = { at: performance.now() };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments += 1;
          else if (line.startsWith('id: ')) frame.id = line.slice(4);
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
        }
        if (frame.event !== undefined || frame.id !== undefined) frames.push(frame);
      }
    }
    ended = true;
  })();
  return { frames, done, get ended() { return ended; }, get comments() { return comments; }, cancel: () => reader.cancel() };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('live stream', () => {
  let t: TestApp;
  let base: string;
  const a = uniqueId('live-a');
  const b = uniqueId('live-b');
  const queueSchema = `pgboss_${uniqueId('live').replaceAll('-', '_')}`;
  let viewerA: Awaited<ReturnType<typeof loginAs>>;
  let viewerB: Awaited<ReturnType<typeof loginAs>>;
  const streams: { cancel: () => Promise<void> }[] = [];

  const ticketFor = async (clientId: string, token: string) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/clients/${clientId}/live/ticket`, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, ticket: res.statusCode === 200 ? res.json<{ ticket: string }>().ticket : '' };
  };
  const open = async (clientId: string, ticket: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/clients/${clientId}/live?ticket=${encodeURIComponent(ticket)}`, { headers });
    return res;
  };
  const stream = async (clientId: string, token: string, headers: Record<string, string> = {}) => {
    const { ticket } = await ticketFor(clientId, token);
    const res = await open(clientId, ticket, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const frames = readFrames(res.body!);
    streams.push(frames);
    await until(() => frames.frames.some((f) => f.event === 'snapshot'), 5_000, 'the snapshot');
    return frames;
  };

  const callStartedSeq = async (clientId: string, callId: string) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const [row] = await t.deps.tenancy.withTenant(clientId, (tx) =>
        sqlRows<{ seq: string }>(tx, sql`select seq::text as seq from domain_events where client_id = ${clientId} and type = 'call.started' and payload->>'call_id' = ${callId}`),
      );
      if (row) return Number(row.seq);
      if (Date.now() > deadline) throw new Error('no call.started event');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    t = await createTestApp({ clientsDir: dir, queueSchema });
    await startWorkers(t.deps, JOB_CATALOGUE, { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    viewerA = await loginAs(t, 'client_viewer', a);
    viewerB = await loginAs(t, 'client_viewer', b);
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.cancel().catch(() => undefined)));
    await t.close();
    await dropSchema(queueSchema);
  });

  it('shows a call within 1 s of call_started, its live transcript, and its end; client B sees none of it', async () => {
    const streamA = await stream(a, viewerA.accessToken);
    const streamB = await stream(b, viewerB.accessToken);
    const callId = `call_live_${Date.now()}`;
    const started = performance.now();
    expect((await postSigned(t.app, a, callEvent(a, 'call_started', callId, { start_timestamp: Date.now() }))).statusCode).toBe(204);
    await until(() => streamA.frames.some((f) => f.event === 'call.started'), 5_000, 'call.started');
    const arrival = streamA.frames.find((f) => f.event === 'call.started')!;
    const latencyMs = arrival.at - started;
    process.stdout.write(`live: call.started arrived ${Math.round(latencyMs)} ms after the call_started webhook\n`);
    expect(latencyMs).toBeLessThan(1_000);
    expect(arrival.data).toMatchObject({ call_id: callId, direction: 'inbound', from_number: '+14155550142', status: 'ongoing' });
    // The call-started job's domain event follows: announced once, it moves the id only.
    const seq = await callStartedSeq(a, callId);
    await until(() => streamA.frames.some((f) => f.id === String(seq)), 5_000, 'the call.started domain event');
    expect(streamA.frames.filter((f) => f.event === 'call.started')).toHaveLength(1);

    const transcriptObject = [
      { role: 'agent', content: 'Thanks for calling, how can I help?', words: [] },
      { role: 'user', content: 'My boiler is leaking.', words: [] },
    ];
    const update = callEvent(a, 'transcript_updated', callId, { call_status: 'ongoing', transcript_object: transcriptObject, transcript: 'Agent: …' });
    expect((await postSigned(t.app, a, update)).statusCode).toBe(204);
    const hasUtterance = () =>
      streamA.frames.some((f) => f.event === 'call.updated' && JSON.stringify(f.data).includes('My boiler is leaking.'));
    await until(hasUtterance, 3_000, 'the live transcript');
    const updated = streamA.frames.find((f) => f.event === 'call.updated' && JSON.stringify(f.data).includes('leaking'))!;
    expect(updated.data).toMatchObject({ call_id: callId, transcript: [{ role: 'agent', content: 'Thanks for calling, how can I help?' }, { role: 'user', content: 'My boiler is leaking.' }] });

    expect((await postSigned(t.app, a, callEvent(a, 'call_ended', callId))).statusCode).toBe(204);
    await until(() => streamA.frames.some((f) => f.event === 'call.ended'), 3_000, 'call.ended');
    expect(streamA.frames.find((f) => f.event === 'call.ended')?.data).toEqual({ call_id: callId, status: 'ended' });

    // B's stream is open all along and hears nothing of A's call.
    expect(JSON.stringify(streamB.frames)).not.toContain(callId);
    expect(streamB.frames.filter((f) => f.event !== 'snapshot')).toEqual([]);
  });

  it('a call in progress is in the snapshot of a stream opened later; Last-Event-ID resumes after the events seen', async () => {
    const callId = `call_snap_${Date.now()}`;
    const first = await stream(a, viewerA.accessToken);
    expect((await postSigned(t.app, a, callEvent(a, 'call_started', callId, { start_timestamp: Date.now() }))).statusCode).toBe(204);
    await until(() => first.frames.some((f) => f.event === 'call.started' && (f.data as { call_id: string }).call_id === callId), 5_000, 'call.started');
    const seq = await callStartedSeq(a, callId);

    const later = await stream(a, viewerA.accessToken);
    const snapshot = later.frames.find((f) => f.event === 'snapshot')!.data as { calls: { call_id: string }[] };
    expect(snapshot.calls.map((c) => c.call_id)).toContain(callId);

    // Resumed before the event: it is replayed (its call is in the snapshot already, so as an id).
    const resumed = await stream(a, viewerA.accessToken, { 'last-event-id': String(seq - 1) });
    await until(() => resumed.frames.some((f) => f.id === String(seq)), 3_000, 'the replayed event');
    const fromLatest = await stream(a, viewerA.accessToken, { 'last-event-id': String(seq) });
    await new Promise((r) => setTimeout(r, 600));
    expect(fromLatest.frames.some((f) => f.id !== undefined && Number(f.id) <= seq)).toBe(false);
  });

  it('refuses without a valid ticket for this client: 400, 401, 404, never an access token or another client’s ticket', async () => {
    expect((await fetch(`${base}/api/clients/${a}/live`)).status).toBe(400);
    expect((await open(a, 'not-a-ticket')).status).toBe(401);
    const body = (await (await open(a, viewerA.accessToken)).json()) as { error: unknown };
    expect(body.error).toMatchObject({ code: 'unauthorized' });
    const ticketB = (await ticketFor(b, viewerB.accessToken)).ticket;
    expect((await open(a, ticketB)).status).toBe(404);
    const expired = issueLiveTicket(viewerA.auth, a, t.deps.config.jwtSecret, Math.floor(Date.now() / 1000) - 3600);
    expect((await open(a, expired)).status).toBe(401);
    // A ticket is not an access token either.
    const ticketA = (await ticketFor(a, viewerA.accessToken)).ticket;
    expect((await t.app.inject({ method: 'GET', url: `/api/clients/${a}/calls`, headers: { authorization: `Bearer ${ticketA}` } })).statusCode).toBe(401);
    // The ticket route: no token 401, another client 404.
    expect((await t.app.inject({ method: 'POST', url: `/api/clients/${a}/live/ticket` })).statusCode).toBe(401);
    expect((await ticketFor(a, viewerB.accessToken)).status).toBe(404);
    expect((await open(a, ticketA, { 'last-event-id': 'x1' })).status).toBe(400);
  });

  it('ends every stream when the server closes', async () => {
    const open = await stream(b, viewerB.accessToken);
    const closing = t.app.close();
    await until(() => open.ended, 5_000, 'the stream to end');
    await closing;
  });
});
