/**
 * Full-text search over calls (`q`): words said in a call's transcript or summary find it, through
 * the generated search document of migration 0011, and never another client's call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

describe('call search (q)', () => {
  let t: TestApp;
  const a = uniqueId('search-a');
  const b = uniqueId('search-b');
  let tokenA: string;
  let tokenB: string;
  let admin: string;

  /** A call as Retell sends it: started, ended with the transcript, analysed with the summary. */
  async function simulateCall(clientId: string, callId: string, transcript: string, summary: string, startMs: number) {
    const timing = { start_timestamp: startMs, end_timestamp: startMs + 60_000, duration_ms: 60_000 };
    for (const [event, extra] of [
      ['call_started', { start_timestamp: startMs }],
      ['call_ended', { ...timing, transcript }],
      ['call_analyzed', { ...timing, transcript, call_analysis: { call_summary: summary, user_sentiment: 'Neutral' } }],
    ] as const) {
      expect((await postSigned(t.app, clientId, callEvent(clientId, event, callId, extra))).statusCode).toBe(204);
    }
  }

  const search = async (clientId: string, token: string, q: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/clients/${clientId}/calls?q=${encodeURIComponent(q)}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ data: { call_id: string }[] }>().data.map((c) => c.call_id).sort();
  };

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    t = await createTestApp({ clientsDir: dir });
    tokenA = (await loginAs(t, 'client_viewer', a)).accessToken;
    tokenB = (await loginAs(t, 'client_viewer', b)).accessToken;
    admin = (await loginAs(t, 'platform_admin')).accessToken;
    const base = 1_795_000_000_000;
    await simulateCall(a, 'call_a_boiler', 'Agent: Thanks for calling.\nUser: My boiler is leaking in the basement.', 'Caller reported a leak', base);
    await simulateCall(a, 'call_a_prices', 'Agent: Hello.\nUser: What are your opening hours?', 'Asked about prices and appointments', base + 3_600_000);
    // Client B's caller says the same word: A's search must never show it.
    await simulateCall(b, 'call_b_boiler', 'User: The boiler makes a noise.', 'Boiler noise', base);
  });
  afterAll(() => t.close());

  it('finds a word said in the transcript of a simulated call, only in the caller’s client', async () => {
    expect(await search(a, tokenA, 'boiler')).toEqual(['call_a_boiler']);
    expect(await search(b, tokenB, 'boiler')).toEqual(['call_b_boiler']);
    // The platform admin looking at A sees A's call only, too.
    expect(await search(a, admin, 'boiler')).toEqual(['call_a_boiler']);
  });

  it('a client user cannot search another client (404, nothing leaks)', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/clients/${a}/calls?q=boiler`, headers: { authorization: `Bearer ${tokenB}` } });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('call_a_boiler');
  });

  it('stems words, searches summaries, takes phrases, or and -word', async () => {
    expect(await search(a, tokenA, 'leaks')).toEqual(['call_a_boiler']);
    expect(await search(a, tokenA, 'LEAKING BASEMENT')).toEqual(['call_a_boiler']);
    expect(await search(a, tokenA, 'appointment')).toEqual(['call_a_prices']);
    expect(await search(a, tokenA, '"opening hours"')).toEqual(['call_a_prices']);
    expect(await search(a, tokenA, '"hours opening"')).toEqual([]);
    expect(await search(a, tokenA, 'boiler or prices')).toEqual(['call_a_boiler', 'call_a_prices']);
    expect(await search(a, tokenA, 'agent -boiler')).toEqual(['call_a_prices']);
    expect(await search(a, tokenA, 'plumber')).toEqual([]);
  });

  it('odd input is searched, never a 500 (tsquery syntax, quotes, backslashes)', async () => {
    for (const q of ['"', "'", '&|!():*', 'boiler:*', '\\', 'a & b', '-', 'or']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/clients/${a}/calls?q=${encodeURIComponent(q)}`, headers: { authorization: `Bearer ${tokenA}` } });
      expect(res.statusCode, q).toBe(200);
    }
  });

  it('the CSV export searches the same way', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/clients/${a}/calls.csv?q=basement`, headers: { authorization: `Bearer ${tokenA}` } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('call_a_boiler');
    expect(res.body).not.toContain('call_a_prices');
  });
});
