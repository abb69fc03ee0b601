/**
 * `npm run bench:api` (issue 6, "Performance"): the client API against PostgreSQL at scale.
 * Needs DATABASE_URL pointing at an empty database it may fill (say, a fresh `xlnc_bench_api`).
 *
 * Seeds 1,000 clients and 1,000,000 calls with set-based SQL (generate_series): one client has
 * 100,000 calls, the other 999 share the rest; 10% of calls booked an appointment, 20% have a
 * message, 30% a function call. Then ANALYZE, and measures through the real app (app.inject, with
 * a platform-admin token):
 *   list       GET …/calls p50/p95 over many requests (random small clients, the big client's first
 *              pages, later pages through the cursor, filtered pages)
 *   analytics  GET …/analytics over the big client's 100,000 calls (p50/p95 of several runs)
 *   csv        GET …/calls.csv of the big client over real HTTP, consumed and discarded, sampling
 *              the live heap (after a forced GC) and RSS as the bytes arrive
 * Measured on the schema as migrated (the indexes this bench once suggested are in migration 0006).
 * Targets: list p95 < 50 ms, analytics < 300 ms, CSV live heap flat (growth well under the size of
 * the export). Progress goes to stderr; ONE JSON line to stdout.
 *
 * Environment: DATABASE_URL (required), BENCH_LIST_REQUESTS (400), BENCH_ANALYTICS_RUNS (10),
 * BENCH_SKIP_SEED=1 (reuse a seeded database).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.ts';
import { issueAccessToken } from '../src/auth/access-token.ts';
import { createUser } from '../src/auth/users.service.ts';
import { JOB_CATALOGUE } from '../src/core/router.ts';
import { createDeps, type Deps } from '../src/deps.ts';
import { loadPlatformConfig } from '../src/platform/config.ts';

const CLIENTS = 1_000;
const TOTAL_CALLS = 1_000_000;
const BIG_CALLS = 100_000;
const BIG_CLIENT = 'bench-c0000';
const clientName = (n: number) => `bench-c${String(n).padStart(4, '0')}`;

const TARGETS = { list_p95_ms: 50, analytics_ms: 300 };

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const LIST_REQUESTS = intEnv('BENCH_LIST_REQUESTS', 400);
const ANALYTICS_RUNS = intEnv('BENCH_ANALYTICS_RUNS', 10);

const log = (message: string) => process.stderr.write(`bench:api: ${message}\n`);

// A forced GC makes heap samples show live memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 1024 / 1024);

async function seed(deps: Deps): Promise<void> {
  const { db } = deps.database;
  const step = async (label: string, query: ReturnType<typeof sql>) => {
    const started = performance.now();
    await db.execute(query);
    log(`${label} (${Math.round(performance.now() - started)} ms)`);
  };
  // g ≤ BIG_CALLS belongs to the big client; the rest are spread over the other 999.
  const clientOf = sql.raw(`case when g <= ${BIG_CALLS} then '${BIG_CLIENT}' else 'bench-c' || lpad((1 + g % ${CLIENTS - 1})::text, 4, '0') end`);
  await step(
    'calls',
    sql`insert into calls (client_id, call_id, agent_id, call_type, direction, from_number, to_number, status, lifecycle_rank,
                           started_at, ended_at, duration_ms, disconnection_reason, summary, sentiment, successful, analysis)
        select ${clientOf}, 'call_' || g, 'agent_bench', 'phone_call',
               case when g % 5 = 0 then 'outbound' else 'inbound' end,
               '+1415' || lpad((g % 10000000)::text, 7, '0'), '+14155550100', 'ended', 3,
               t.started_at, t.started_at + t.duration, (extract(epoch from t.duration) * 1000)::bigint,
               case g % 20 when 0 then 'voicemail_reached' when 1 then 'dial_no_answer' else 'user_hangup' end,
               'Caller asked about appointment ' || g,
               (array['Positive', 'Neutral', 'Negative', 'Unknown'])[1 + g % 4],
               g % 3 <> 0,
               jsonb_build_object('call_summary', 'Caller asked about appointment ' || g)
          from generate_series(1, ${TOTAL_CALLS}) g,
               lateral (select now() - ((g::bigint * 2654435761) % (90 * 86400)) * interval '1 second' as started_at,
                               (10 + (g * 31) % 600) * interval '1 second' as duration) t`,
  );
  await step(
    'appointments',
    sql`insert into appointments (client_id, call_id, starts_at, ends_at, status, provider, customer_phone, idempotency_key, created_at)
        select ${clientOf}, 'call_' || g, timestamptz '2027-01-01' + g * interval '30 minutes',
               timestamptz '2027-01-01' + g * interval '30 minutes' + interval '30 minutes',
               case when g % 50 = 3 then 'cancelled' else 'booked' end, 'internal',
               '+1415' || lpad((g % 10000000)::text, 7, '0'), 'bench:' || g,
               now() - ((g::bigint * 2654435761) % (90 * 86400)) * interval '1 second'
          from generate_series(1, ${TOTAL_CALLS}) g where g % 10 = 3`,
  );
  await step(
    'messages',
    sql`insert into messages (client_id, call_id, channel, kind, idempotency_key, provider, to_address, body, status, created_at)
        select ${clientOf}, 'call_' || g,
               case when g % 10 = 1 then 'email' else 'sms' end,
               case when g % 10 = 1 then 'message_taken' else 'confirmation' end,
               'bench:' || g, case when g % 10 = 1 then 'sendgrid' else 'twilio' end,
               case when g % 10 = 1 then 'desk@example.com' else '+14155550142' end,
               'Bench message ' || g,
               (array['delivered', 'sent', 'failed', 'delivered', 'delivered'])[1 + g % 5],
               now() - ((g::bigint * 2654435761) % (90 * 86400)) * interval '1 second'
          from generate_series(1, ${TOTAL_CALLS}) g where g % 10 in (1, 3)`,
  );
  await step(
    'function_calls',
    sql`insert into function_calls (client_id, call_id, name, args, outcome, error_code, latency_ms, created_at)
        select ${clientOf}, 'call_' || g,
               (array['check_availability', 'book_appointment', 'take_message'])[1 + g % 3], '{}'::jsonb,
               case when g % 7 = 0 then 'error' else 'ok' end, case when g % 7 = 0 then 'provider_timeout' end,
               40 + g % 200,
               now() - ((g::bigint * 2654435761) % (90 * 86400)) * interval '1 second'
          from generate_series(1, ${TOTAL_CALLS}) g where g % 10 in (2, 3, 4)`,
  );
  await step('analyze', sql`analyze`);
}

interface ListFigures {
  requests: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  by_kind: Record<string, { n: number; p50_ms: number; p95_ms: number }>;
  non_200: number;
}

async function measureList(app: Awaited<ReturnType<typeof buildApp>>, headers: Record<string, string>): Promise<ListFigures> {
  const kinds = ['small_first_page', 'big_first_page', 'big_next_pages', 'big_filtered', 'small_search'] as const;
  const timings: Record<(typeof kinds)[number], number[]> = {
    small_first_page: [],
    big_first_page: [],
    big_next_pages: [],
    big_filtered: [],
    small_search: [],
  };
  let non200 = 0;
  let bigCursor: string | null = null;
  const urlFor = (kind: (typeof kinds)[number], i: number): string => {
    const small = clientName(1 + ((i * 7919) % (CLIENTS - 1)));
    switch (kind) {
      case 'small_first_page':
        return `/api/clients/${small}/calls?limit=50`;
      case 'big_first_page':
        return `/api/clients/${BIG_CLIENT}/calls?limit=50`;
      case 'big_next_pages':
        return `/api/clients/${BIG_CLIENT}/calls?limit=50${bigCursor ? `&cursor=${bigCursor}` : ''}`;
      case 'big_filtered':
        return `/api/clients/${BIG_CLIENT}/calls?limit=50&${['outcome=booked', 'sentiment=negative', 'direction=outbound', 'outcome=message'][i % 4]}`;
      case 'small_search':
        return `/api/clients/${small}/calls?limit=50&q=${i % 2 === 0 ? '4155' : 'appointment'}`;
    }
  };
  // The big client's share stays under the per-client limit of 600 requests a minute.
  const plan: (typeof kinds)[number][] = [];
  for (let i = 0; i < LIST_REQUESTS; i++) {
    plan.push(i % 8 < 4 ? 'small_first_page' : i % 8 === 4 ? 'big_first_page' : i % 8 === 5 ? 'big_next_pages' : i % 8 === 6 ? 'big_filtered' : 'small_search');
  }
  for (let i = 0; i < 30; i++) await app.inject({ method: 'GET', url: urlFor('small_first_page', i + 100_000), headers });
  for (const [i, kind] of plan.entries()) {
    const started = performance.now();
    const res = await app.inject({ method: 'GET', url: urlFor(kind, i), headers });
    timings[kind].push(performance.now() - started);
    if (res.statusCode !== 200) {
      non200 += 1;
      if (non200 <= 3) log(`list ${urlFor(kind, i)} answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    } else if (kind === 'big_next_pages') {
      bigCursor = res.json<{ next_cursor: string | null }>().next_cursor;
    }
  }
  const all = Object.values(timings).flat();
  return {
    requests: all.length,
    p50_ms: round(percentile(all, 50)),
    p95_ms: round(percentile(all, 95)),
    p99_ms: round(percentile(all, 99)),
    max_ms: round(Math.max(...all)),
    by_kind: Object.fromEntries(
      kinds.map((kind) => [kind, { n: timings[kind].length, p50_ms: round(percentile(timings[kind], 50)), p95_ms: round(percentile(timings[kind], 95)) }]),
    ),
    non_200: non200,
  };
}

async function measureAnalytics(app: Awaited<ReturnType<typeof buildApp>>, headers: Record<string, string>) {
  const from = new Date(Date.now() - 91 * 86_400_000).toISOString();
  const url = `/api/clients/${BIG_CLIENT}/analytics?from=${encodeURIComponent(from)}&bucket=day`;
  const timings: number[] = [];
  let calls = 0;
  for (let i = 0; i < ANALYTICS_RUNS + 2; i++) {
    const started = performance.now();
    const res = await app.inject({ method: 'GET', url, headers });
    const ms = performance.now() - started;
    if (res.statusCode !== 200) throw new Error(`analytics answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    calls = res.json<{ totals: { calls: number } }>().totals.calls;
    if (i >= 2) timings.push(ms);
  }
  return { calls, runs: timings.length, p50_ms: round(percentile(timings, 50)), p95_ms: round(percentile(timings, 95)), max_ms: round(Math.max(...timings)) };
}

async function measureCsv(port: number, token: string) {
  gc();
  gc();
  const before = process.memoryUsage();
  const samples: { bytes: number; heap_mb: number; rss_mb: number }[] = [];
  let bytes = 0;
  let nextSampleAt = 0;
  const SAMPLE_EVERY = 1024 * 1024;
  const started = performance.now();
  let firstByteMs = 0;
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: `/api/clients/${BIG_CLIENT}/calls.csv`, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`csv answered ${res.statusCode}`));
        res.on('data', (chunk: Buffer) => {
          if (bytes === 0) firstByteMs = performance.now() - started;
          bytes += chunk.length;
          for (const byte of chunk) if (byte === 10) rows += 1;
          if (bytes >= nextSampleAt) {
            nextSampleAt = bytes + SAMPLE_EVERY;
            gc();
            const usage = process.memoryUsage();
            samples.push({ bytes, heap_mb: mb(usage.heapUsed), rss_mb: mb(usage.rss) });
          }
        });
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  const durationMs = performance.now() - started;
  const peakHeap = Math.max(...samples.map((s) => s.heap_mb));
  const peakRss = Math.max(...samples.map((s) => s.rss_mb));
  const growth = round(peakHeap - mb(before.heapUsed));
  // Flat: the live heap never grows by more than a quarter of the export's size (a buffered
  // export would hold all of it, twice over as UTF-16 strings).
  const flatLimitMb = round(Math.min(16, mb(bytes) / 4));
  return {
    rows: rows - 1,
    mb: mb(bytes),
    duration_ms: Math.round(durationMs),
    first_byte_ms: Math.round(firstByteMs),
    rows_per_s: Math.round((rows - 1) / (durationMs / 1000)),
    heap_before_mb: mb(before.heapUsed),
    heap_peak_mb: peakHeap,
    heap_growth_mb: growth,
    rss_before_mb: mb(before.rss),
    rss_peak_mb: peakRss,
    samples: samples.length,
    heap_mb_by_progress: [0.1, 0.25, 0.5, 0.75, 1].map((f) => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))]?.heap_mb ?? 0),
    flat_limit_mb: flatLimitMb,
    flat: growth < flatLimitMb,
  };
}

async function phase(label: string, deps: Deps, token: string) {
  const app = await buildApp(deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const headers = { authorization: `Bearer ${token}` };
  try {
    log(`${label}: list`);
    const list = await measureList(app, headers);
    log(`${label}: list p95 ${list.p95_ms} ms; analytics`);
    const analytics = await measureAnalytics(app, headers);
    log(`${label}: analytics p95 ${analytics.p95_ms} ms; csv`);
    const csv = await measureCsv(port, token);
    log(`${label}: csv ${csv.rows} rows in ${csv.duration_ms} ms, heap growth ${csv.heap_growth_mb} MB`);
    return {
      list,
      analytics,
      csv,
      pass: {
        list_p95: list.p95_ms < TARGETS.list_p95_ms && list.non_200 === 0,
        analytics: analytics.p95_ms < TARGETS.analytics_ms && analytics.calls === BIG_CALLS,
        csv_flat: csv.flat && csv.rows === BIG_CALLS,
      },
    };
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write(
      'bench:api needs PostgreSQL: set DATABASE_URL to an empty database it may fill with 1,000,000 calls, e.g.\n' +
        "  psql -h 127.0.0.1 -U postgres -c 'create database xlnc_bench_api'\n" +
        '  DATABASE_URL=postgres://postgres@127.0.0.1/xlnc_bench_api npm run bench:api\n' +
        'Skipping.\n',
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'xlnc-bench-api-'));
  const clientsDir = join(dir, 'clients');
  mkdirSync(clientsDir);
  for (let n = 0; n < CLIENTS; n++) {
    const id = clientName(n);
    writeFileSync(
      join(clientsDir, `${id}.json`),
      JSON.stringify({
        client_id: id,
        name: `Bench ${id}`,
        environment: 'test',
        timezone: n % 2 === 0 ? 'America/New_York' : 'Europe/London',
        retell: { api_key: `key_bench_${n}_secret`, agent_ids: ['agent_bench'] },
        calendar: { provider: 'internal' },
      }),
    );
  }
  const config = loadPlatformConfig({
    NODE_ENV: 'test',
    // The 1,000 literal-secret warnings would bury the one JSON line.
    LOG_LEVEL: 'error',
    DATABASE_URL: databaseUrl,
    DATA_DIR: join(dir, 'data'),
    CLIENTS_DIR: clientsDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    JWT_REFRESH_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    WORKERS_IN_PROCESS: 'false',
  });
  // A fresh deps (and so a fresh in-memory rate limiter) per phase.
  const openDeps = () => createDeps(config, { catalogue: JOB_CATALOGUE, defaultMetrics: false, pollIntervalMs: 0, watchClients: false });
  const deps = await openDeps();
  try {
    if (process.env.BENCH_SKIP_SEED !== '1') {
      const [existing] = (await deps.database.executor.executeSql('select count(*)::int as n from calls')).rows as { n: number }[];
      if ((existing?.n ?? 0) > 0) throw new Error('the database already has calls; use an empty one (or BENCH_SKIP_SEED=1 to reuse it)');
      log('seeding 1,000 clients and 1,000,000 calls');
      await seed(deps);
    }
    // A real platform admin: a token is only good while its user exists.
    const admin = await deps.tenancy.withPlatform((tx) =>
      createUser(tx, { email: `bench-${randomBytes(5).toString('hex')}@example.test`, password: randomBytes(18).toString('base64url'), role: 'platform_admin', clientId: null }, () => true),
    );
    const token = issueAccessToken({ id: admin.id, role: 'platform_admin', clientId: null }, config.jwtSecret);
    const started = Date.now();
    const schemaAsMigrated = await phase('schema as migrated', deps, token);
    const result = {
      bench: 'api',
      database: 'postgres',
      clients: CLIENTS,
      calls: TOTAL_CALLS,
      big_client_calls: BIG_CALLS,
      targets: { ...TARGETS, csv: 'live heap growth < min(16 MB, export size / 4)' },
      schema_as_migrated: schemaAsMigrated,
      pass: Object.values(schemaAsMigrated.pass).every(Boolean),
      measured_s: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await deps.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:api failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
