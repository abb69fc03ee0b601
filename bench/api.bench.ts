/**
 * `npm run bench:api` (issue 15, "Speed behind it"): the client API against PostgreSQL at scale.
 *
 *   psql -h 127.0.0.1 -U postgres -c 'create database xlnc_bench_api'
 *   DATABASE_URL=postgres://postgres@127.0.0.1/xlnc_bench_api npm run bench:api [-- --assert]
 *
 * Needs DATABASE_URL pointing at an empty database it may fill. Seeds 1,000 clients and 1,000,000
 * calls with set-based SQL (generate_series, a few minutes): one client has 100,000 calls, the
 * other 999 share the rest. Every call has a summary ("Caller asked about appointment N"); the big
 * client's calls also have a transcript of about 900 characters (an agent and a caller over 16
 * turns, "appointment" in most; the surname "Okonkwo" in one call of 9,973), which the other
 * clients' calls go without so that seeding stays within minutes on a shared machine; 10% of calls booked an appointment, 20% have a message, 30% a function call. The
 * analytics rollups are filled the way an existing database gets them (migration 0019's
 * backfill), then ANALYZE. Then it measures through the real app (app.inject, platform-admin token),
 * each figure as p50/p95/p99 against its target:
 *   analytics_30d / analytics_90d   GET …/analytics of the big client, ending now   p95 < 150 ms
 *   calls_first_page                GET …/calls?limit=50 of the big client            p95 < 50 ms
 *   calls_deep_page                 the same from cursors 10,000-90,000 calls deep    p95 < 50 ms
 *   search_common / search_rare     GET …/calls?q=appointment | q=okonkwo             p95 < 200 ms
 *   csv                             GET …/calls.csv of the big client over real HTTP: live heap flat
 * with the load average beside each (the machine may be shared). A summary table goes to stderr,
 * ONE JSON line to stdout. `--assert` exits 1 when a target is missed (otherwise it only reports).
 *
 * Environment: DATABASE_URL (required), BENCH_RUNS (60 per figure), BENCH_SKIP_SEED=1 (reuse a
 * seeded database), BENCH_SKIP_CSV=1.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.ts';
import { issueAccessToken } from '../src/auth/access-token.ts';
import { createUser } from '../src/auth/users.service.ts';
import { encodeCursor } from '../src/client-api/cursor.ts';
import { JOB_CATALOGUE } from '../src/core/router.ts';
import { createDeps, type Deps } from '../src/deps.ts';
import { loadPlatformConfig } from '../src/platform/config.ts';

const CLIENTS = 1_000;
const TOTAL_CALLS = 1_000_000;
const BIG_CALLS = 100_000;
const BIG_CLIENT = 'bench-c0000';
const clientName = (n: number) => `bench-c${String(n).padStart(4, '0')}`;

const TARGETS = { analytics_p95_ms: 150, calls_page_p95_ms: 50, search_p95_ms: 200 };
const ASSERT = process.argv.slice(2).includes('--assert');

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Measured requests per figure; the big client's requests stay under its 600 a minute. */
const RUNS = Math.min(intEnv('BENCH_RUNS', 60), 90);
const WARMUP = 5;

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
  // The rollup triggers (migration 0019) are off while seeding: the rows then get their rollups
  // as an existing database does, from the set-based backfill, timed below.
  const rollups = ((await deps.database.executor.executeSql(`select to_regprocedure('analytics_rebuild(text)') is not null as present`)).rows[0] as { present: boolean })
    .present;
  const sourceTables = ['calls', 'appointments', 'messages', 'function_calls'];
  if (rollups) for (const table of sourceTables) await db.execute(sql.raw(`alter table ${table} disable trigger user`));
  // g ≤ BIG_CALLS belongs to the big client; the rest are spread over the other 999.
  const clientOf = sql.raw(`case when g <= ${BIG_CALLS} then '${BIG_CLIENT}' else 'bench-c' || lpad((1 + g % ${CLIENTS - 1})::text, 4, '0') end`);
  // A receptionist call as Retell transcribes it: 16 turns picked from these by the call number
  // (the big client's calls; see the header).
  const turns = sql.raw(`array[${[
    'Agent: Thank you for calling, how can I help you today?',
    "User: Hi, I'd like to book an appointment for next week.",
    'Agent: Of course. Can I have your name, please?',
    "User: It's Maria, and my number ends in zero one four two.",
    'Agent: What day works best for you?',
    'User: Tuesday afternoon if possible, around three.',
    'Agent: I have a slot at three thirty on Tuesday. Shall I book it?',
    'User: Yes please, that would be great.',
    'Agent: Your appointment is confirmed. You will get a text message shortly.',
    'User: Do you take insurance, and how much is a consultation?',
    'Agent: A consultation is eighty dollars and we accept most insurance plans.',
    'User: Can I reschedule my appointment from Friday?',
    'Agent: Sure, let me check the calendar for openings.',
    'User: Is there parking near the office?',
    'Agent: Yes, there is free parking behind the building.',
    'User: I need to cancel, something came up at work.',
    'Agent: No problem, I have cancelled it. Would you like to book another appointment?',
    'User: Could you leave a message for the doctor?',
    'Agent: I will pass your message on and someone will call you back today.',
    'Agent: Is there anything else I can help you with? Have a nice day.',
  ]
    .map((turn) => `'${turn.replace(/'/g, "''")}'`)
    .join(', ')}]`);
  const transcript = sql.raw(
    `case when g <= ${BIG_CALLS} then concat_ws(E'\\n', ${Array.from({ length: 16 }, (_, i) => `turns[1 + ((g / ${[1, 3, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59][i]}) + ${i * 5}) % 20]`).join(', ')},` +
      ` case when g % 9973 = 0 then 'User: My surname is Okonkwo, O K O N K W O.' end) end`,
  );
  await step(
    'calls',
    sql`insert into calls (client_id, call_id, agent_id, call_type, direction, from_number, to_number, status, lifecycle_rank,
                           started_at, ended_at, duration_ms, disconnection_reason, summary, transcript, sentiment, successful, analysis)
        select ${clientOf}, 'call_' || g, 'agent_bench', 'phone_call',
               case when g % 5 = 0 then 'outbound' else 'inbound' end,
               '+1415' || lpad((g % 10000000)::text, 7, '0'), '+14155550100', 'ended', 3,
               t.started_at, t.started_at + t.duration, (extract(epoch from t.duration) * 1000)::bigint,
               case g % 20 when 0 then 'voicemail_reached' when 1 then 'dial_no_answer' else 'user_hangup' end,
               'Caller asked about appointment ' || g, ${transcript},
               (array['Positive', 'Neutral', 'Negative', 'Unknown'])[1 + g % 4],
               g % 3 <> 0,
               jsonb_build_object('call_summary', 'Caller asked about appointment ' || g)
          from generate_series(1, ${TOTAL_CALLS}) g,
               (select ${turns} as turns) words,
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
  if (rollups) {
    for (const table of sourceTables) await db.execute(sql.raw(`alter table ${table} enable trigger user`));
    await step('analytics rollups backfill (analytics_rebuild)', sql`select analytics_rebuild(null)`);
  }
  await step('analyze', sql`analyze`);
}

interface Figure {
  target_p95_ms: number;
  runs: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Load average (1 min) before and after the runs. */
  load_1m: [number, number];
  /** What the answers held, to show the work was real (calls counted, rows returned). */
  answer: string;
  pass: boolean;
}

type App = Awaited<ReturnType<typeof buildApp>>;

/** `runs` timed GETs (after a few untimed ones); every answer must be a 200 that `check` accepts. */
async function measure(
  app: App,
  headers: Record<string, string>,
  target: number,
  url: (i: number) => string,
  check: (body: unknown) => string,
): Promise<Figure> {
  const load1 = round(loadavg()[0] ?? 0, 2);
  const timings: number[] = [];
  let answer = '';
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const started = performance.now();
    const res = await app.inject({ method: 'GET', url: url(i), headers });
    const ms = performance.now() - started;
    if (res.statusCode !== 200) throw new Error(`${url(i)} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    answer = check(res.json());
    if (i >= WARMUP) timings.push(ms);
  }
  const p95 = round(percentile(timings, 95));
  return {
    target_p95_ms: target,
    runs: timings.length,
    p50_ms: round(percentile(timings, 50)),
    p95_ms: p95,
    p99_ms: round(percentile(timings, 99)),
    max_ms: round(Math.max(...timings)),
    load_1m: [load1, round(loadavg()[0] ?? 0, 2)],
    answer,
    pass: p95 < target,
  };
}

/** Cursors into the big client's list 10,000 to 90,000 calls deep (the keys a client would hold). */
async function deepCursors(deps: Deps): Promise<string[]> {
  const cursors: string[] = [];
  for (let depth = 10_000; depth < BIG_CALLS; depth += 10_000) {
    const rows = (
      await deps.database.executor.executeSql(
        `select to_char(sort_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, call_id
           from calls where client_id = $1 order by sort_at desc, call_id desc offset $2 limit 1`,
        [BIG_CLIENT, depth],
      )
    ).rows as { at: string; call_id: string }[];
    const row = rows[0];
    if (row) cursors.push(encodeCursor('calls', { at: row.at, id: row.call_id }));
  }
  return cursors;
}

async function measureAll(app: App, headers: Record<string, string>, cursors: string[]) {
  const base = `/api/clients/${BIG_CLIENT}`;
  const since = (days: number) => encodeURIComponent(new Date(Date.now() - days * 86_400_000).toISOString());
  const analyticsCheck = (body: unknown) => {
    const totals = (body as { totals: { calls: number } }).totals;
    if (totals.calls <= 0) throw new Error('analytics counted no calls');
    return `${totals.calls} calls`;
  };
  const pageCheck = (body: unknown) => {
    const { data } = body as { data: unknown[] };
    if (data.length !== 50) throw new Error(`a page of ${data.length} calls, not 50`);
    return `${data.length} calls a page`;
  };
  const searchCheck = (body: unknown) => {
    const { data } = body as { data: unknown[] };
    if (data.length === 0) throw new Error('the search found nothing');
    return `${data.length} calls found (first page)`;
  };
  const figures: Record<string, Figure> = {};
  const run = async (name: string, work: () => Promise<Figure>) => {
    log(`${name}…`);
    figures[name] = await work();
    log(`${name}: p95 ${figures[name].p95_ms} ms`);
  };
  await run('analytics_30d', () => measure(app, headers, TARGETS.analytics_p95_ms, () => `${base}/analytics?from=${since(30)}&bucket=day`, analyticsCheck));
  await run('analytics_90d', () => measure(app, headers, TARGETS.analytics_p95_ms, () => `${base}/analytics?from=${since(90)}&bucket=day`, analyticsCheck));
  await run('calls_first_page', () => measure(app, headers, TARGETS.calls_page_p95_ms, () => `${base}/calls?limit=50`, pageCheck));
  await run('calls_deep_page', () =>
    measure(app, headers, TARGETS.calls_page_p95_ms, (i) => `${base}/calls?limit=50&cursor=${cursors[i % cursors.length] ?? ''}`, pageCheck),
  );
  await run('search_common', () => measure(app, headers, TARGETS.search_p95_ms, () => `${base}/calls?limit=50&q=appointment`, searchCheck));
  await run('search_rare', () => measure(app, headers, TARGETS.search_p95_ms, () => `${base}/calls?limit=50&q=okonkwo`, searchCheck));
  return figures;
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

async function phase(deps: Deps, token: string) {
  const app = await buildApp(deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const headers = { authorization: `Bearer ${token}` };
  try {
    const figures = await measureAll(app, headers, await deepCursors(deps));
    let csv: Awaited<ReturnType<typeof measureCsv>> | null = null;
    if (process.env.BENCH_SKIP_CSV !== '1') {
      log('csv…');
      csv = await measureCsv(port, token);
      log(`csv: ${csv.rows} rows in ${csv.duration_ms} ms, heap growth ${csv.heap_growth_mb} MB`);
    }
    return { figures, csv };
  } finally {
    await app.close();
  }
}

function table(figures: Record<string, Figure>): string {
  const lines = [`${'figure'.padEnd(18)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}  target p95  load 1m     result`];
  for (const [name, f] of Object.entries(figures)) {
    lines.push(
      `${name.padEnd(18)} ${`${f.p50_ms}`.padStart(8)} ${`${f.p95_ms}`.padStart(8)} ${`${f.p99_ms}`.padStart(8)}  ${`< ${f.target_p95_ms} ms`.padEnd(10)}  ${`${f.load_1m[0]}-${f.load_1m[1]}`.padEnd(10)}  ${f.pass ? 'ok' : 'MISSED'} (${f.answer})`,
    );
  }
  return `${lines.join('\n')}\n(milliseconds; ${RUNS} runs each; load average of a shared machine beside each)\n`;
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
    } else {
      // Reusing a database seeded by an earlier run: say what it holds, and refuse one that is not
      // the benchmark's (the figures would not be about 1,000,000 calls).
      const [held] = (
        await deps.database.executor.executeSql('select count(*)::int as calls, count(*) filter (where client_id = $1)::int as big from calls', [BIG_CLIENT])
      ).rows as { calls: number; big: number }[];
      log(`BENCH_SKIP_SEED=1: reusing the seeded database, ${held?.calls ?? 0} calls, ${held?.big ?? 0} of them ${BIG_CLIENT}'s (migrations applied above)`);
      if ((held?.calls ?? 0) < TOTAL_CALLS || (held?.big ?? 0) < BIG_CALLS) throw new Error('BENCH_SKIP_SEED=1 needs a database an earlier bench:api run seeded');
    }
    // A real platform admin: a token is only good while its user exists.
    const admin = await deps.tenancy.withPlatform((tx) =>
      createUser(tx, { email: `bench-${randomBytes(5).toString('hex')}@example.test`, password: randomBytes(18).toString('base64url'), role: 'platform_admin', clientId: null }, () => true),
    );
    const token = issueAccessToken({ id: admin.id, role: 'platform_admin', clientId: null }, config.jwtSecret);
    const started = Date.now();
    const { figures, csv } = await phase(deps, token);
    const csvPass = csv === null || (csv.flat && csv.rows === BIG_CALLS);
    const pass = Object.values(figures).every((f) => f.pass) && csvPass;
    process.stderr.write(`\n${table(figures)}${csv ? `csv: ${csv.rows} rows, live heap growth ${csv.heap_growth_mb} MB (flat limit ${csv.flat_limit_mb} MB): ${csvPass ? 'ok' : 'MISSED'}\n` : ''}`);
    const result = {
      bench: 'api',
      database: 'postgres',
      clients: CLIENTS,
      calls: TOTAL_CALLS,
      big_client_calls: BIG_CALLS,
      targets: { ...TARGETS, csv: 'live heap growth < min(16 MB, export size / 4)' },
      load_average: loadavg().map((n) => round(n, 2)),
      figures,
      csv,
      pass,
      measured_s: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!pass) {
      log(ASSERT ? 'a target was missed: exit 1 (--assert)' : 'a target was missed (pass --assert to exit 1 on that)');
      if (ASSERT) process.exitCode = 1;
    }
  } finally {
    await deps.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:api failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
