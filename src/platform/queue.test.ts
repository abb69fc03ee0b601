import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-db.ts';
import { uniqueId } from '../../test/helpers/test-app.ts';
import { sqlRows, type Database } from './db/database.ts';
import { createTenancy } from './db/tenancy.ts';
import { createJobQueue, defineJob, jobIdForKey, PermanentJobError, type JobQueue } from './queue.ts';

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

describe('job queue', () => {
  let database: Database;
  let queue: JobQueue;
  const payload = z.object({ client_id: z.string(), n: z.number() });

  beforeAll(async () => {
    database = await openTestDatabase();
    queue = createJobQueue(database, pino({ level: 'silent' }));
    await queue.start();
  });
  afterAll(async () => {
    await queue.stop();
    await database.close();
  });

  it('enqueues inside the caller transaction: a rollback leaves no job; an idempotency key makes one job', async () => {
    const job = defineJob({ name: `test.tx-${uniqueId('q')}`, payload });
    await queue.register([job]);
    const tenancy = createTenancy(database);
    const client = uniqueId('qtx');
    await expect(
      tenancy.withTenant(client, async (tx) => {
        await queue.enqueue(job, { client_id: client, n: 1 }, { tx, key: 'k1' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const count = async () =>
      (await sqlRows<{ n: number }>(database.db, sql`select count(*)::int as n from pgboss.job where name = ${job.name}`))[0]?.n;
    expect(await count()).toBe(0);
    await tenancy.withTenant(client, (tx) => queue.enqueue(job, { client_id: client, n: 1 }, { tx, key: 'k1' }));
    await tenancy.withTenant(client, (tx) => queue.enqueue(job, { client_id: client, n: 1 }, { tx, key: 'k1' }));
    expect(await count()).toBe(1);
    expect(jobIdForKey(job.name, 'k1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('retries a failing handler with backoff, and dead-letters a permanent failure', async () => {
    const job = defineJob({ name: `test.retry-${uniqueId('q')}`, payload, retryLimit: 2, retryDelaySeconds: 1 });
    await queue.register([job]);
    const client = uniqueId('qr');
    const attempts: number[] = [];
    await queue.work(
      job,
      async (data, meta) => {
        attempts.push(meta.retryCount);
        if (data.n === 1 && meta.retryCount < 1) throw new Error('transient');
        if (data.n === 2) throw new PermanentJobError('never');
      },
      { pollingIntervalSeconds: 0.5 },
    );
    await queue.enqueue(job, { client_id: client, n: 1 });
    await queue.enqueue(job, { client_id: client, n: 2 });
    const state = async (n: number) =>
      (await sqlRows<{ state: string }>(database.db, sql`select state::text as state from pgboss.job where name = ${job.name} and (data->>'n')::int = ${n}`))[0]?.state;
    await until(async () => (await state(1)) === 'completed', 15_000);
    await until(async () => (await state(2)) === 'failed', 15_000);
    expect(attempts.filter((a) => a === 1).length).toBeGreaterThanOrEqual(1);
    const dead = await sqlRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from pgboss.job where name = 'dead-letter' and data->>'client_id' = ${client}`,
    );
    expect(dead[0]?.n).toBe(1);
  });

  // A backlog runs at the handlers' speed: workers fetch again at once while there is work. (At one
  // job per fetch, pg-boss waited out the polling interval after every job: 4 workers ran 8 jobs/s.)
  it('drains a backlog at the speed of its handlers, not one job per polling interval', async () => {
    const job = defineJob({ name: `test.drain-${uniqueId('q')}`, payload });
    await queue.register([job]);
    let done = 0;
    await queue.work(
      job,
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        done += 1;
      },
      { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 },
    );
    const clients = Array.from({ length: 10 }, () => uniqueId('drain'));
    await queue.boss.insert(
      job.name,
      Array.from({ length: 400 }, (_, n) => ({ data: { client_id: clients[n % 10], n }, group: { id: clients[n % 10]! } })),
    );
    // 400 × 20 ms over 4 slots is 2 s of work; polling once per job would take 400 × 0.5 s / 4 = 50 s
    // however idle the machine. The bound is half of that: a loaded machine (CI runs both test modes
    // side by side, other work beside them) stretches the 2 s several times over, and still passes;
    // waiting out the polling interval between jobs cannot.
    const elapsedMs = await until(() => done === 400, 40_000);
    console.log(`drain: 400 jobs in ${elapsedMs} ms`);
    expect(elapsedMs).toBeLessThan(25_000);
  }, 60_000);

  // A latency bound on a shared machine: without fairness the quiet job waits ~50 s; with it, one
  // polling interval (0.5 s) plus a fetch. One more try tells a stall on a loaded machine from a
  // lost fairness cap, which fails every time.
  it("per-client fairness: a 10,000-job burst from one client does not hold another client's job back", { retry: 1 }, async () => {
    const job = defineJob({ name: `test.fair-${uniqueId('q')}`, payload });
    await queue.register([job]);
    const noisy = uniqueId('noisy');
    const quiet = uniqueId('quiet');
    const quietDone: number[] = [];
    await queue.work(
      job,
      async (data) => {
        await new Promise((r) => setTimeout(r, 20));
        if (data.client_id === quiet) quietDone.push(Date.now());
      },
      { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 },
    );
    // Baseline: how long one job takes on an idle queue on this machine right now.
    const baselineStart = Date.now();
    await queue.enqueue(job, { client_id: quiet, n: -1 });
    await until(() => quietDone.length === 1, 10_000);
    const baselineMs = quietDone[0]! - baselineStart;

    await queue.boss.insert(
      job.name,
      Array.from({ length: 10_000 }, (_, n) => ({ data: { client_id: noisy, n }, group: { id: noisy } })),
    );
    const startedAt = Date.now();
    await queue.enqueue(job, { client_id: quiet, n: 0 });
    const enqueuedAt = Date.now();
    await until(() => quietDone.length === 2, 20_000);
    const delayMs = quietDone[1]! - enqueuedAt;
    console.log(`fairness: baseline ${baselineMs} ms, quiet job after the burst ${delayMs} ms`);
    // Without fairness the quiet job waits behind ~10,000 × 20 ms / 4 workers ≈ 50 s. With it, a few
    // seconds at most: 5 s, or a few times this machine's idle-queue latency when it is loaded.
    expect(delayMs, `baseline ${baselineMs} ms`).toBeLessThan(Math.max(5_000, 8 * baselineMs));
    expect(Date.now() - startedAt).toBeLessThan(20_000);
  });
});
