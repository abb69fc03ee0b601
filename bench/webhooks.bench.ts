/**
 * `npm run bench:webhooks` (issue 3, "Performance"): starts bench/bench-server.ts (PostgreSQL and
 * Redis when DATABASE_URL / REDIS_URL are set, else embedded PGlite and in-memory state), fires
 * signed `call_ended` events with unique call ids through autocannon, and prints ONE JSON line:
 *   webhook    max throughput (BENCH_CONNECTIONS connections): accepted req/s, p50, p99, non-2xx
 *   at_500     webhook p50/p99 at a steady BENCH_RATE req/s (open loop, evenly spaced: pacedLoad)
 *   health     GET /health, the same two measurements
 *   insert     POST /bench/insert (one INSERT on the same server), the same two measurements
 *   ratios     webhook p99 / health p99 and webhook p99 / insert p99
 *   clients_10, clients_10000   webhook p99 at BENCH_RATE with 10 and 10,000 configured clients: a
 *              server for each, one after the other, settled by one uncounted round, then BENCH_SPREAD_ROUNDS (6) rounds of BENCH_SECONDS / 2
 *              each; the median of each one's round p99s (and every round's figure)
 * Targets (2-core machine, PostgreSQL): >= 2,000 accepted events/s; p99 <= 25 ms at 500/s;
 * p99 within 15% between 10 and 10,000 clients. Progress goes to stderr; the JSON line to stdout.
 *
 * Environment: BENCH_SECONDS (10) per measurement, BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (32),
 * BENCH_RATE (500), BENCH_CLIENTS (100), BENCH_BIG_CLIENTS (10000), BENCH_SPREAD_ROUNDS (6), BENCH_SKIP_SPREAD=1 (skip the
 * 10 vs 10,000 runs), BENCH_SKIP_BASELINES=1 (skip /health and /bench/insert), BENCH_CPU_PROF=<dir> (run the first server with --cpu-prof into <dir>),
 * BENCH_START_TIMEOUT_SECONDS (900), BENCH_TRACE_SQL=1 (the server prints per-statement round-trip times on exit; PostgreSQL mode).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signRetellBody } from '../src/webhooks/retell/retell-signature.ts';
import {
  autocannon,
  installCleanupHandlers,
  intEnv,
  load,
  logger,
  MODE,
  pacedLoad,
  requestSource,
  REDIS_URL,
  round,
  runBench,
  startBenchServer,
  trackTempDir,
  type AutocannonOptions,
  type RunningServer,
} from './bench-support.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const SECONDS = intEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 32);
const RATE = intEnv('BENCH_RATE', 500);
const CLIENTS = intEnv('BENCH_CLIENTS', 100);
const BIG_CLIENTS = intEnv('BENCH_BIG_CLIENTS', 10_000);
const SPREAD_ROUNDS = intEnv('BENCH_SPREAD_ROUNDS', 6);
const SKIP_SPREAD = process.env.BENCH_SKIP_SPREAD === '1';
const SKIP_BASELINES = process.env.BENCH_SKIP_BASELINES === '1';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const SERVER_START_TIMEOUT_MS = intEnv('BENCH_START_TIMEOUT_SECONDS', 900) * 1000;

/**
 * The per-client webhook rate limit is raised so the limiter never answers 429 during a run
 * (it still runs on every request: Redis MULTI in PostgreSQL mode, a Map otherwise).
 */
const WEBHOOKS_PER_MINUTE = 10_000_000;


const log = logger('bench:webhooks');

// ---------------------------------------------------------------------------------------------
// Clients: the same shape as test/helpers/test-app.ts testClientConfig (environment "test", so
// literal secrets are allowed), written here so the bench does not depend on test code.

interface BenchClient {
  id: string;
  key: string;
  agentId: string;
}

const retellKeyFor = (id: string) => `key_test_${id.replaceAll('-', '_')}_secret`;
const agentFor = (id: string) => `agent_${id.replaceAll('-', '')}`;

function benchClientConfig(id: string) {
  return {
    client_id: id,
    name: `Bench Client ${id}`,
    status: 'active',
    environment: 'test',
    industry: 'tax_preparation',
    timezone: 'America/New_York',
    business_hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] },
    retell: { api_key: retellKeyFor(id), agent_ids: [agentFor(id)], phone_numbers: ['+14155550123'] },
    calendar: { provider: 'internal' },
    limits: { webhooks_per_minute: WEBHOOKS_PER_MINUTE },
  };
}

function writeClients(dir: string, count: number): BenchClient[] {
  mkdirSync(dir, { recursive: true });
  const clients: BenchClient[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = `bench-${String(i).padStart(5, '0')}`;
    writeFileSync(join(dir, `${id}.json`), JSON.stringify(benchClientConfig(id)));
    clients.push({ id, key: retellKeyFor(id), agentId: agentFor(id) });
  }
  return clients;
}

// ---------------------------------------------------------------------------------------------
// Requests

const RUN_TAG = randomBytes(4).toString('hex');
let sequence = 0;

/** Callers vary as in real traffic (one number for every call would make one hot customer row per client). */
const callerFor = (n: number) => `+1415555${String(1000 + (n % 9000)).padStart(4, '0')}`;

function callEndedBody(client: BenchClient, callId: string, n: number): string {
  return JSON.stringify({
    event: 'call_ended',
    call: {
      call_id: callId,
      call_type: 'phone_call',
      agent_id: client.agentId,
      agent_version: 1,
      call_status: 'ended',
      direction: 'inbound',
      from_number: callerFor(n),
      to_number: '+14155550100',
      start_timestamp: 1_795_000_000_000,
      end_timestamp: 1_795_000_095_000,
      duration_ms: 95_000,
      disconnection_reason: 'user_hangup',
    },
  });
}

/** Signed call_ended with a unique call id, round-robin over the clients, signed at send time. */
function webhookRequests(clients: readonly BenchClient[]): AutocannonOptions['requests'] {
  return [
    {
      method: 'POST',
      setupRequest: (request) => {
        const n = sequence++;
        const client = clients[n % clients.length]!;
        const body = callEndedBody(client, `call_${RUN_TAG}_${n}`, n);
        return {
          ...request,
          method: 'POST',
          path: `/api/webhooks/retell/${client.id}`,
          headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, client.key, Date.now()) },
          body,
        };
      },
    },
  ];
}

function insertRequests(clients: readonly BenchClient[]): AutocannonOptions['requests'] {
  return [
    {
      method: 'POST',
      setupRequest: (request) => {
        const n = sequence++;
        const body = callEndedBody(clients[n % clients.length]!, `ins_${RUN_TAG}_${n}`, n);
        return { ...request, method: 'POST', path: '/bench/insert', headers: { 'content-type': 'application/json' }, body };
      },
    },
  ];
}

const healthRequests = (): AutocannonOptions['requests'] => [{ method: 'GET', path: '/health' }];

interface Measurement {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
}

async function measure(
  label: string,
  port: number,
  requests: () => AutocannonOptions['requests'],
  options: { seconds: number; rate?: number },
): Promise<Measurement> {
  if (options.rate) {
    // A steady rate, open loop (see pacedLoad): not autocannon's per-second bursts.
    const paced = await pacedLoad({ url: `http://127.0.0.1:${port}`, rate: options.rate, seconds: options.seconds, next: requestSource(requests()) });
    const measurement: Measurement = {
      rps: round(paced.ok / paced.seconds, 1),
      p50_ms: round(paced.p50),
      p99_ms: round(paced.p99),
      non2xx: paced.non2xx,
      errors: paced.errors,
    };
    const codes = Object.entries(paced.statusCounts)
      .map(([code, count]) => `${code}:${count}`)
      .join(' ');
    log(`${label}: ${JSON.stringify(measurement)} status=[${codes}] load=${load().join(',')}`);
    return measurement;
  }
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: options.seconds,
    timeout: 10,
    requests: requests(),
  });
  const measurement: Measurement = {
    // Accepted (2xx) responses per second over the run, not merely responses.
    rps: round(result['2xx'] / result.duration, 1),
    p50_ms: round(result.latency.p50),
    p99_ms: round(result.latency.p99),
    non2xx: result.non2xx,
    errors: result.errors,
  };
  const codes = Object.entries(result.statusCodeStats)
    .map(([code, { count }]) => `${code}:${count}`)
    .join(' ');
  log(`${label}: ${JSON.stringify(measurement)} status=[${codes}] load=${load().join(',')}`);
  return measurement;
}

// ---------------------------------------------------------------------------------------------
// Server processes and cleanup: bench/bench-support.ts

installCleanupHandlers(log);

function startServer(root: string, clientsDir: string, name: string, cpuProf: boolean): Promise<RunningServer> {
  return startBenchServer({
    root,
    clientsDir,
    name,
    log,
    startTimeoutMs: SERVER_START_TIMEOUT_MS,
    ...(cpuProf && CPU_PROF_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] } : {}),
  });
}

// ---------------------------------------------------------------------------------------------

async function warmUp(port: number, requests: () => AutocannonOptions['requests']): Promise<void> {
  await autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: WARMUP_SECONDS, requests: requests() });
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * One deployment with `count` clients: its own server, warmed up and settled (one uncounted round),
 * then SPREAD_ROUNDS rounds of half a measurement each; the caller takes the median of the rounds' p99s, so one stall (a checkpoint,
 * a GC) decides one round, not the comparison. The two deployments run one after the other: an
 * idle 10,000-client server beside the 10-client one would tax the wrong side.
 */
async function spreadRun(root: string, count: number): Promise<number[]> {
  const clients = writeClients(join(root, `clients-${count}`), count);
  const server = await startServer(root, join(root, `clients-${count}`), `c${count}`, false);
  try {
    await warmUp(server.port, () => webhookRequests(clients));
    const seconds = Math.max(2, Math.round(SECONDS / 2));
    // One more round at the measured rate, not counted: the first seconds after start-up still
    // carry one-off work (JIT, cold index pages, the first re-scan re-reading just-written files).
    await measure(`webhook at ${RATE}/s, ${count} clients, settling (not counted)`, server.port, () => webhookRequests(clients), { seconds, rate: RATE });
    const p99s: number[] = [];
    for (let round = 0; round < SPREAD_ROUNDS; round++) {
      const result = await measure(`webhook at ${RATE}/s, ${count} clients, round ${round + 1}`, server.port, () => webhookRequests(clients), {
        seconds,
        rate: RATE,
      });
      p99s.push(result.p99_ms);
    }
    return p99s;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'xlnc-bench-webhooks-'));
  trackTempDir(root);
  if (CPU_PROF_DIR) mkdirSync(CPU_PROF_DIR, { recursive: true });
  const loadStart = load();
  log(
    `mode=${MODE} redis=${REDIS_URL ? 'yes' : 'no (in-memory)'} workers_in_process=false (jobs are enqueued, not run) ` +
      `seconds=${SECONDS} connections=${CONNECTIONS} rate=${RATE} clients=${CLIENTS} load=${loadStart.join(',')}`,
  );

  const clients = writeClients(join(root, 'clients-main'), CLIENTS);
  const server = await startServer(root, join(root, 'clients-main'), 'main', Boolean(CPU_PROF_DIR));
  let webhook: Measurement;
  let at500: Measurement;
  const skipped: Measurement = { rps: 0, p50_ms: 0, p99_ms: 0, non2xx: 0, errors: 0 };
  let health = skipped;
  let healthAt500 = skipped;
  let insert = skipped;
  let insertAt500 = skipped;
  try {
    const { port } = server;
    const webhooks = () => webhookRequests(clients);
    const inserts = () => insertRequests(clients);
    await warmUp(port, webhooks);
    webhook = await measure('webhook max', port, webhooks, { seconds: SECONDS });
    at500 = await measure(`webhook at ${RATE}/s`, port, webhooks, { seconds: SECONDS, rate: RATE });
    if (!SKIP_BASELINES) {
      await warmUp(port, healthRequests);
      health = await measure('health max', port, healthRequests, { seconds: SECONDS });
      healthAt500 = await measure(`health at ${RATE}/s`, port, healthRequests, { seconds: SECONDS, rate: RATE });
      await warmUp(port, inserts);
      insert = await measure('insert max', port, inserts, { seconds: SECONDS });
      insertAt500 = await measure(`insert at ${RATE}/s`, port, inserts, { seconds: SECONDS, rate: RATE });
    }
  } finally {
    await server.stop();
  }
  if (CPU_PROF_DIR) log(`CPU profile of the main server written to ${CPU_PROF_DIR}`);

  let p99Small: number | null = null;
  let p99Big: number | null = null;
  let rounds: { small: number[]; big: number[] } | undefined;
  let spreadError: string | undefined;
  if (!SKIP_SPREAD) {
    // A failure here (e.g. 10,000 clients too slow to load) still prints the figures measured so far.
    try {
      rounds = { small: await spreadRun(root, 10), big: await spreadRun(root, BIG_CLIENTS) };
      p99Small = round(median(rounds.small));
      p99Big = round(median(rounds.big));
    } catch (error) {
      spreadError = error instanceof Error ? error.message : String(error);
      log(`clients spread run failed: ${spreadError}`);
    }
  }
  const spreadPct = p99Small !== null && p99Big !== null && p99Small > 0 ? round(((p99Big - p99Small) / p99Small) * 100, 1) : null;
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b) : null);

  const report = {
    bench: 'webhooks',
    mode: MODE,
    redis: Boolean(REDIS_URL),
    workers_in_process: false,
    seconds: SECONDS,
    connections: CONNECTIONS,
    rate: RATE,
    clients: CLIENTS,
    load_avg: { start: loadStart, end: load() },
    webhook,
    at_500: { p99_ms: at500.p99_ms, p50_ms: at500.p50_ms, non2xx: at500.non2xx },
    health: { ...health, at_500_p99_ms: healthAt500.p99_ms },
    insert: { ...insert, at_500_p99_ms: insertAt500.p99_ms },
    ratios: {
      webhook_vs_health_p99_at_500: ratio(at500.p99_ms, healthAt500.p99_ms),
      webhook_vs_insert_p99_at_500: ratio(at500.p99_ms, insertAt500.p99_ms),
      webhook_vs_health_p99_max: ratio(webhook.p99_ms, health.p99_ms),
      webhook_vs_insert_p99_max: ratio(webhook.p99_ms, insert.p99_ms),
    },
    clients_10: { p99_ms: p99Small, rounds_p99_ms: rounds?.small ?? null },
    clients_10000: { p99_ms: p99Big, clients: BIG_CLIENTS, rounds_p99_ms: rounds?.big ?? null },
    p99_spread_pct: spreadPct,
    ...(spreadError ? { spread_error: spreadError } : {}),
    targets: {
      rps_2000: webhook.rps >= 2000 && webhook.non2xx === 0,
      p99_25ms_at_500: at500.p99_ms <= 25 && at500.non2xx === 0,
      spread_15pct: spreadPct === null ? null : Math.abs(spreadPct) <= 15,
    },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

runBench(main, log);
