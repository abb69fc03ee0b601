import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlRows } from '../../platform/db/database.ts';
import { callEvent, postSigned } from '../../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../../test/helpers/test-app.ts';

describe('webhook route under hostile input', () => {
  let t: TestApp;
  const id = uniqueId('prop');

  const storedEvents = async () =>
    (await sqlRows<{ n: number }>(t.deps.database.db, sql`select count(*)::int as n from call_events where client_id = ${id}`))[0]?.n ?? 0;

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id, { limits: { webhooks_per_minute: 100_000 } }));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  it('signed random bodies, truncated JSON and wrong types: always a 4xx envelope or a 2xx, never a 5xx; a 4xx stores nothing', async () => {
    const valid = JSON.stringify(callEvent(id, 'call_ended', 'call_prop_base'));
    const bodies = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
      fc.record({ event: fc.oneof(fc.string(), fc.integer(), fc.constant('call_ended')), call: fc.anything({ maxDepth: 2 }) }).map((v) => JSON.stringify(v)),
      fc
        .record({
          call_id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
          duration_ms: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(-1)),
          from_number: fc.oneof(fc.string(), fc.integer()),
          start_timestamp: fc.oneof(fc.integer(), fc.string(), fc.double({ min: 1e300 })),
          transcript: fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.array(fc.string())),
        })
        .map((call) => JSON.stringify({ event: 'call_ended', call: { agent_id: `agent_${id.replaceAll('-', '')}`, ...call } })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = await storedEvents();
        const res = await postSigned(t.app, id, body);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
          expect(await storedEvents()).toBe(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('any unicode in a transcript (NUL and lone surrogates included) is accepted and stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), fc.nat(), async (transcript, n) => {
        const callId = `call_uni_${n}_${Math.random().toString(36).slice(2)}`;
        const res = await postSigned(t.app, id, callEvent(id, 'call_ended', callId, { transcript }));
        expect(res.statusCode).toBe(204);
        const [row] = await sqlRows<{ transcript: string }>(
          t.deps.database.db,
          sql`select transcript from calls where client_id = ${id} and call_id = ${callId}`,
        );
        expect(row?.transcript.length).toBe(transcript.length);
      }),
      { numRuns: 60 },
    );
  });

  it('a huge string field within the size limit is fine; a replayed old body is 401', async () => {
    const big = await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_big', { transcript: 'é'.repeat(400_000) }));
    expect(big.statusCode).toBe(204);
    const replay = await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_replay'), { timestampMs: Date.now() - 10 * 60_000 });
    expect(replay.statusCode).toBe(401);
  });

  it('1,000 events with 30% duplicates in random order: one call row per call, each event once, each job once', async () => {
    const calls = 234;
    const deliveries: Record<string, unknown>[] = [];
    for (let i = 0; i < calls; i++) {
      const callId = `call_bulk_${i}`;
      deliveries.push(callEvent(id, 'call_started', callId, { call_status: 'ongoing' }));
      deliveries.push(callEvent(id, 'call_ended', callId));
      deliveries.push(callEvent(id, 'call_analyzed', callId, { call_analysis: { call_summary: `summary ${i}` } }));
    }
    // 702 distinct events + 298 redeliveries: about 30% of the 1,000 deliveries are duplicates.
    const all = [...deliveries];
    while (all.length < 1000) all.push(deliveries[Math.floor(Math.random() * deliveries.length)]!);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    for (let i = 0; i < all.length; i += 20) {
      const results = await Promise.all(all.slice(i, i + 20).map((body) => postSigned(t.app, id, body)));
      for (const res of results) expect(res.statusCode).toBe(204);
    }
    const [counts] = await sqlRows<{ calls: number; events: number; analyzed: number }>(
      t.deps.database.db,
      sql`select (select count(*)::int from calls where client_id = ${id} and call_id like 'call_bulk_%') as calls,
                 (select count(*)::int from call_events where client_id = ${id} and call_id like 'call_bulk_%') as events,
                 (select count(*)::int from calls where client_id = ${id} and call_id like 'call_bulk_%' and lifecycle_rank = 3 and summary is not null and status = 'ended') as analyzed`,
    );
    expect(counts).toEqual({ calls, events: calls * 3, analyzed: calls });
    const jobs = await sqlRows<{ name: string; n: number }>(
      t.deps.database.db,
      sql`select name, count(*)::int as n from pgboss.job where group_id = ${id} and data->>'call_id' like 'call_bulk_%' group by name order by name`,
    );
    expect(jobs).toEqual([
      { name: 'event.call-started', n: calls },
      { name: 'event.post-call', n: calls * 2 },
    ]);
  });
});
