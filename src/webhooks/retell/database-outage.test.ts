/**
 * The database going away, as the request path sees it (findings 2 and 3 of issue 11): driver
 * errors a restart produces are injected where the route stores, so both modes run this. The
 * real restarts are in test/e2e/faults.test.ts.
 */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { callEvents } from '../../platform/db/schema.ts';
import { agentFor, callEvent, postSigned } from '../../../test/helpers/retell.ts';
import { createTestApp, testClientConfig, tempDir, uniqueId, writeClientFile, type TestApp } from '../../../test/helpers/test-app.ts';
import { spooledLines } from './inbound-spool.ts';

/** What node-postgres and pg-pool raise while the server restarts or is gone. */
const OUTAGE_ERRORS: [string, () => Error][] = [
  ['57P01 admin shutdown', () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['57P03 cannot connect now', () => Object.assign(new Error('the database system is shutting down'), { code: '57P03' })],
  ['ECONNREFUSED', () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
  ['connection terminated', () => new Error('Connection terminated unexpectedly')],
  ['pool timeout', () => new Error('timeout exceeded when trying to connect')],
  ['drizzle-wrapped', () => new DrizzleQueryError('insert into "retell_events" …', [], Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))],
];

describe('database unavailable on the request path', () => {
  let t: TestApp;
  const client = uniqueId('outage');

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(client));
    t = await createTestApp({ clientsDir: dir });
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => t.close());

  it.each(OUTAGE_ERRORS)('a webhook gets 503 service_unavailable with Retry-After, never 500 (%s)', async (_name, error) => {
    vi.spyOn(t.deps.tenancy, 'batchAsTenant').mockRejectedValue(error());
    const res = await postSigned(t.app, client, callEvent(client, 'call_started', `call_${uniqueId('o')}`));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.json().error).toMatchObject({ code: 'service_unavailable' });
    expect(res.body).not.toMatch(/ECONNREFUSED|retell_events|5432/);
  });

  it('a bug is still a 500: only outages become 503', async () => {
    vi.spyOn(t.deps.tenancy, 'batchAsTenant').mockRejectedValue(new TypeError('cannot read properties of undefined'));
    const res = await postSigned(t.app, client, callEvent(client, 'call_started', `call_${uniqueId('o')}`));
    expect(res.statusCode).toBe(500);
  });

  it('/ready is 503 and says why in general terms: no query text, no driver message', async () => {
    const failedQuery = () =>
      new DrizzleQueryError(`select to_regclass('drizzle.__drizzle_migrations') is not null as present`, [], Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    vi.spyOn(t.deps.database, 'ping').mockRejectedValue(failedQuery());
    vi.spyOn(t.deps.database, 'migrationsApplied').mockRejectedValue(failedQuery());
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not_ready', checks: { database: { ok: false, detail: 'the database is unreachable' } } });
    expect(res.body).not.toMatch(/Failed query|to_regclass|ECONNREFUSED|5432/);
    expect(res.body).not.toContain(client);
  });

  it('call_inbound answered 200 while the database is down is spooled on disk and stored once it is back, once', async () => {
    const callId = `call_${uniqueId('in')}`;
    const body = { event: 'call_inbound', call_inbound: { agent_id: agentFor(client), from_number: '+14155550142', to_number: '+14155550100', call_id: callId } };
    const down = vi.spyOn(t.deps.tenancy, 'batchAsTenant').mockRejectedValue(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const first = await postSigned(t.app, client, body);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toHaveProperty('call_inbound');
    // Retell may deliver it again while the database is still down: spooled twice, stored once.
    expect((await postSigned(t.app, client, body)).statusCode).toBe(200);
    const lines = await spooledLines(t.deps.config.dataDir);
    expect(lines.filter((line) => line.includes(callId))).toHaveLength(2);

    down.mockRestore();
    const stored = async () =>
      t.deps.tenancy.withTenant(client, (tx) => tx.select().from(callEvents).where(and(eq(callEvents.clientId, client), eq(callEvents.callId, callId))));
    const deadline = Date.now() + 10_000;
    while ((await stored()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: 'call_inbound', dedupeKey: `call_inbound:${callId}` });
    expect(await spooledLines(t.deps.config.dataDir)).toEqual([]);
  });
});
