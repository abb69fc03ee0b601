/**
 * `npm run bench:webhooks` (issue 3, "Performance"): starts bench/bench-server.ts (PostgreSQL and
 * Redis when DATABASE_URL / REDIS_URL are set, else embedded PGlite and in-memory state), fires
 * signed `call_ended` events with unique call ids through autocannon, and prints ONE JSON line:
 *   webhook    max throughput (BENCH_CONNECTIONS connections): accepted req/s, p50, p99, non-2xx
 *   at_500     webhook p99 at a fixed BENCH_RATE req/s
 *   health     GET /health, the same two measurements
 *   insert     POST /bench/insert (one INSERT on the same server), the same two measurements
 *   ratios     webhook p99 / health p99 and webhook p99 / insert p99
 *   clients_10, clients_10000   webhook p99 at BENCH_RATE with 10 and 10,000 configured clients
 * Targets (2-core machine, PostgreSQL): >= 2,000 accepted events/s; p99 <= 25 ms at 500/s;
 * p99 within 15% between 10 and 10,000 clients. Progress goes to stderr; the JSON line to stdout.
 *
 * Environment: BENCH_SECONDS (10) per measurement, BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (32),
 * BENCH_RATE (500), BENCH_CLIENTS (100), BENCH_BIG_CLIENTS (10000), BENCH_SKIP_SPREAD=1 (skip the
 * 10 vs 10,000 restarts), BENCH_SKIP_BASELINES=1 (skip /health and /bench/insert), BENCH_CPU_PROF=<dir> (run the first server with --cpu-prof into <dir>),
 * BENCH_START_TIMEOUT_SECONDS (900), BENCH_TRACE_SQL=1 (the server prints per-statement round-trip times on exit; PostgreSQL mode).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRetellBody } from '../src/webhooks/retell/retell-signature.ts';

// ---------------------------------------------------------------------------------------------
// autocannon ships no type declarations: the slice of its programmatic API used here.

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  timeout?: number;
  requests: (AutocannonRequest & { setupRequest?: (request: AutocannonRequest) => AutocannonRequest })[];
}

interface Histogram {
  average: number;
  p50: number;
  p99: number;
  max: number;
}

interface AutocannonResult {
  latency: Histogram;
  requests: Histogram & { total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

type Autocannon = (options: AutocannonOptions) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------
// Settings

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const SECONDS = intEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 32);
const RATE = intEnv('BENCH_RATE', 500);
const CLIENTS = intEnv('BENCH_CLIENTS', 100);
const BIG_CLIENTS = intEnv('BENCH_BIG_CLIENTS', 10_000);
const SKIP_SPREAD = process.env.BENCH_SKIP_SPREAD === '1';
const SKIP_BASELINES = process.env.BENCH_SKIP_BASELINES === '1';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const REDIS_URL = process.env.REDIS_URL || undefined;
const MODE: 'postgres' | 'pglite' = DATABASE_URL ? 'postgres' : 'pglite';
const SERVER_START_TIMEOUT_MS = intEnv('BENCH_START_TIMEOUT_SECONDS', 900) * 1000;

/**
 * The per-client webhook rate limit is raised so the limiter never answers 429 during a run
 * (it still runs on every request: Redis MULTI in PostgreSQL mode, a Map otherwise).
 */
const WEBHOOKS_PER_MINUTE = 10_000_000;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('./bench-server.ts', import.meta.url));

const log = (message: string) => process.stderr.write(`[bench:webhooks] ${message}\n`);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const load = () => loadavg().map((n) => round(n));

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

function callEndedBody(client: BenchClient, callId: string): string {
  return JSON.stringify({
    event: 'call_ended',
    call: {
      call_id: callId,
      call_type: 'phone_call',
      agent_id: client.agentId,
      agent_version: 1,
      call_status: 'ended',
      direction: 'inbound',
      from_number: '+14155550142',
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
        const body = callEndedBody(client, `call_${RUN_TAG}_${n}`);
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
        const body = callEndedBody(clients[n % clients.length]!, `ins_${RUN_TAG}_${n}`);
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
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: options.seconds,
    timeout: 10,
    ...(options.rate ? { overallRate: options.rate } : {}),
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
// Server processes and cleanup

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanupSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', cleanupSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    cleanupSync();
    process.exit(130);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

async function startServer(root: string, clientsDir: string, name: string, cpuProf: boolean): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = join(root, `data-${name}`);
  mkdirSync(dataDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    DATA_DIR: dataDir,
    CLIENTS_DIR: clientsDir,
    WORKERS_IN_PROCESS: 'false',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    JWT_REFRESH_SECRET: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ...(DATABASE_URL ? { DATABASE_URL } : {}),
    ...(REDIS_URL ? { REDIS_URL } : {}),
    ...(process.env.BENCH_TRACE_SQL ? { BENCH_TRACE_SQL: process.env.BENCH_TRACE_SQL } : {}),
  };
  const args = [
    ...(cpuProf && CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []),
    '--import',
    'tsx',
    SERVER_ENTRY,
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[server ${name}] ${chunk.toString()}`));
  let literalSecretWarnings = 0;

  const started = Date.now();
  await new Promise<void>((resolveReady, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server ${name} not ready after ${SERVER_START_TIMEOUT_MS} ms`)), SERVER_START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') {
          clearTimeout(timer);
          resolveReady();
        } else if (line.includes('literal secret (allowed only because environment is')) {
          // One per generated client file (they use literal test keys): counted, not echoed.
          literalSecretWarnings += 1;
        } else if (line) {
          process.stderr.write(`[server ${name}] ${line}\n`);
        }
        newline = buffered.indexOf('\n');
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server ${name} exited before ready (code ${code}, signal ${signal})`));
    });
  });
  log(`server ${name} ready on port ${port} in ${Date.now() - started} ms (${literalSecretWarnings} literal-secret warnings hidden)`);

  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        children.delete(child);
        return;
      }
      const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killTimer);
      children.delete(child);
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function warmUp(port: number, requests: () => AutocannonOptions['requests']): Promise<void> {
  await autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: WARMUP_SECONDS, requests: requests() });
}

async function spreadRun(root: string, count: number): Promise<number> {
  const clients = writeClients(join(root, `clients-${count}`), count);
  const server = await startServer(root, join(root, `clients-${count}`), `c${count}`, false);
  try {
    await warmUp(server.port, () => webhookRequests(clients));
    const result = await measure(`webhook at ${RATE}/s, ${count} clients`, server.port, () => webhookRequests(clients), {
      seconds: SECONDS,
      rate: RATE,
    });
    return result.p99_ms;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'xlnc-bench-webhooks-'));
  tempDirs.add(root);
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
  let spreadError: string | undefined;
  if (!SKIP_SPREAD) {
    // A failure here (e.g. 10,000 clients too slow to load) still prints the figures measured so far.
    try {
      p99Small = await spreadRun(root, 10);
      p99Big = await spreadRun(root, BIG_CLIENTS);
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
    clients_10: { p99_ms: p99Small },
    clients_10000: { p99_ms: p99Big, clients: BIG_CLIENTS },
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

main()
  .then(() => {
    cleanupSync();
    process.exit(0);
  })
  .catch((error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    cleanupSync();
    process.exit(1);
  });
