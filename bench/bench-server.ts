/**
 * The server process for `npm run bench:webhooks` (started by bench/webhooks.bench.ts, not by hand).
 * The real app (config from the environment, `createDeps`, `buildApp`) plus one bench-only route,
 * `POST /bench/insert`, doing exactly one INSERT, as the baseline a webhook is compared with.
 * Job workers are never started here (the driver sets WORKERS_IN_PROCESS=false), so enqueued
 * follow-up jobs stay queued and do not compete with the HTTP path for CPU.
 * Prints "ready" on stdout once listening; SIGTERM closes the app, drops the bench table and exits.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { JOB_CATALOGUE } from '../src/core/router.ts';
import { createDeps } from '../src/deps.ts';
import { loadPlatformConfig } from '../src/platform/config.ts';

/**
 * BENCH_TRACE_SQL=1 (diagnostics): times every node-postgres round trip by statement and the wait
 * for a pool connection (PGlite: every protocol call), and prints the totals to stderr on shutdown.
 */
let recordTrace: ((key: string, ms: number) => void) | undefined;

function traceSql(): () => void {
  const stats = new Map<string, { n: number; ms: number; max: number }>();
  const record = (key: string, ms: number) => {
    const entry = stats.get(key) ?? { n: 0, ms: 0, max: 0 };
    entry.n += 1;
    entry.ms += ms;
    entry.max = Math.max(entry.max, ms);
    stats.set(key, entry);
  };
  recordTrace = record;
  type Query = (this: pg.Client, ...args: unknown[]) => unknown;
  const clientProto = pg.Client.prototype as unknown as { query: Query };
  const originalQuery = clientProto.query;
  clientProto.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
    const key = `query ${text.replace(/\s+/g, ' ').trim().slice(0, 70)}`;
    const started = performance.now();
    const result = originalQuery.apply(this, args);
    if (result instanceof Promise) {
      result.then(
        () => record(key, performance.now() - started),
        () => record(`${key} (failed)`, performance.now() - started),
      );
    }
    return result;
  };
  type Connect = (this: pg.Pool, ...args: unknown[]) => unknown;
  const poolProto = pg.Pool.prototype as unknown as { connect: Connect };
  const originalConnect = poolProto.connect;
  poolProto.connect = function (this: pg.Pool, ...args: unknown[]) {
    const started = performance.now();
    const callback = args[0];
    if (typeof callback === 'function') {
      return originalConnect.call(this, (...cbArgs: unknown[]) => {
        record('pool.connect (wait for a connection)', performance.now() - started);
        (callback as (...a: unknown[]) => void)(...cbArgs);
      });
    }
    const result = originalConnect.apply(this, args);
    if (result instanceof Promise) result.then(() => record('pool.connect (wait for a connection)', performance.now() - started), () => undefined);
    return result;
  };
  return () => {
    const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
    for (const [key, { n, ms, max }] of rows) {
      process.stderr.write(
        `trace ${String(n).padStart(7)} calls  avg ${(ms / n).toFixed(2).padStart(7)} ms  max ${max.toFixed(1).padStart(7)} ms  total ${(ms / 1000).toFixed(1).padStart(6)} s  ${key}\n`,
      );
    }
  };
}

/** BENCH_TRACE_SQL=1 in embedded mode: times PGlite protocol calls by the SQL of their Parse message. */
function tracePglite(pglite: object, record: (key: string, ms: number) => void): void {
  const target = pglite as Record<string, unknown>;
  for (const method of ['execProtocol', 'execProtocolStream', 'execProtocolRaw', 'execProtocolRawStream']) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = async function (this: unknown, message: Uint8Array, ...rest: unknown[]) {
      let text = 'other';
      if (message[0] === 0x50) {
        // Parse: 'P', int32 length, statement name\0, query\0
        const body = Buffer.from(message.buffer, message.byteOffset + 5, Math.max(0, message.byteLength - 5));
        const nameEnd = body.indexOf(0);
        const queryEnd = body.indexOf(0, nameEnd + 1);
        text = body.subarray(nameEnd + 1, queryEnd < 0 ? undefined : queryEnd).toString('utf8');
      } else if (message[0] === 0x51) {
        text = Buffer.from(message.buffer, message.byteOffset + 5, Math.max(0, message.byteLength - 6)).toString('utf8');
      } else {
        text = `message ${String.fromCharCode(message[0] ?? 63)}`;
      }
      const started = performance.now();
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).call(this, message, ...rest);
      } finally {
        record(`pglite ${method} ${text.replace(/\s+/g, ' ').trim().slice(0, 60)}`, performance.now() - started);
      }
    };
  }
}

async function main(): Promise<void> {
  const printTrace = process.env.BENCH_TRACE_SQL === '1' ? traceSql() : undefined;
  const config = loadPlatformConfig(process.env);
  const deps = await createDeps(config, { catalogue: JOB_CATALOGUE, defaultMetrics: false, superviseJobs: config.workersInProcess });
  const { db } = deps.database;
  if (recordTrace && deps.database.pglite) tracePglite(deps.database.pglite, recordTrace);

  // A plain table rather than TEMPORARY: with PostgreSQL the pool has several sessions and a
  // temporary table exists in one of them only. It is dropped on shutdown (and the database with it).
  await db.execute(sql`drop table if exists bench_inserts`);
  await db.execute(sql`create table bench_inserts (id bigserial primary key, body jsonb not null)`);

  const app = await buildApp(deps);
  app.post('/bench/insert', async (request, reply) => {
    await db.execute(sql`insert into bench_inserts (body) values (${JSON.stringify(request.body ?? null)}::jsonb)`);
    return reply.code(204).send();
  });

  await app.listen({ port: config.port, host: '127.0.0.1' });
  process.stderr.write(
    `${JSON.stringify({
      bench_server: 'listening',
      port: config.port,
      database: deps.database.kind,
      redis: Boolean(deps.redis),
      workers_in_process: config.workersInProcess,
      clients: deps.registry.countsByStatus(),
    })}\n`,
  );
  if (config.workersInProcess) {
    process.stderr.write('bench-server: WORKERS_IN_PROCESS is ignored here; job workers are never started\n');
  }
  process.stdout.write('ready\n');

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => process.exit(1), 15_000);
    deadline.unref();
    app
      .close()
      .then(() => db.execute(sql`drop table if exists bench_inserts`))
      .then(() => deps.close())
      .then(() => {
        printTrace?.();
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(`bench-server: shutdown error: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-server: startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
