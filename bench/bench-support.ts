/**
 * Shared plumbing for the HTTP benches (first used by bench/functions.bench.ts; the same approach
 * as bench/webhooks.bench.ts, which keeps its own copy): autocannon's typed slice, settings from
 * the environment, bench/bench-server.ts as a child process (the real app in NODE_ENV=production
 * with generated secrets, PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, else PGlite
 * in a temp DATA_DIR; job workers never started), and cleanup of children and temp dirs on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// autocannon ships no type declarations: the slice of its programmatic API used by the benches.

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface AutocannonRequestSpec extends AutocannonRequest {
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  overallRate?: number;
  timeout?: number;
  requests: AutocannonRequestSpec[];
}

export interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface AutocannonResult {
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
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------
// Settings and small helpers

export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;
export const MODE: 'postgres' | 'pglite' = DATABASE_URL ? 'postgres' : 'pglite';

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
export const load = () => loadavg().map((n) => round(n));

export function logger(name: string): (message: string) => void {
  return (message) => process.stderr.write(`[${name}] ${message}\n`);
}

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH_SERVER_ENTRY = fileURLToPath(new URL('./bench-server.ts', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Child processes, temp dirs and cleanup

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: (() => void)[] = [];

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

/** Synchronous work to run on exit (e.g. closing an in-process fake's sockets). */
export function onCleanup(work: () => void): void {
  cleanups.push(work);
}

export function cleanupSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const work of cleanups.splice(0)) {
    try {
      work();
    } catch {
      // best effort on exit
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let handlersInstalled = false;
/** Kills the servers and removes temp dirs on exit, SIGINT and SIGTERM. */
export function installCleanupHandlers(log: (message: string) => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`);
      cleanupSync();
      process.exit(130);
    });
  }
}

export async function freePort(): Promise<number> {
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

export interface RunningServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /** Temp root: the server's DATA_DIR is created under it. */
  root: string;
  clientsDir: string;
  name: string;
  log: (message: string) => void;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment for the server (wins over the defaults). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * Starts bench/bench-server.ts (the real app, `buildApp(createDeps(config))`) with NODE_ENV=production
 * and generated secrets, and resolves once it prints "ready".
 */
export async function startBenchServer(options: StartServerOptions): Promise<RunningServer> {
  const { root, clientsDir, name, log } = options;
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
    ...(process.env.DB_POOL_SIZE ? { DB_POOL_SIZE: process.env.DB_POOL_SIZE } : {}),
    ...options.env,
  };
  const startTimeoutMs = options.startTimeoutMs ?? 900_000;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BENCH_SERVER_ENTRY], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[server ${name}] ${chunk.toString()}`));
  let literalSecretWarnings = 0;

  const started = Date.now();
  await new Promise<void>((resolveReady, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server ${name} not ready after ${startTimeoutMs} ms`)), startTimeoutMs);
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
          // One per literal secret in the generated (environment "test") client files: counted, not echoed.
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
    url: `http://127.0.0.1:${port}`,
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
// Steady-rate load

export interface PacedResult {
  /** Requests that got a 2xx. */
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statusCounts: Record<string, number>;
}

/** The first request spec as a generator, with its setupRequest applied per request (fresh signatures). */
export function requestSource(specs: AutocannonRequestSpec[]): () => AutocannonRequest {
  const [spec] = specs;
  if (!spec) throw new Error('no request spec');
  const { setupRequest, onResponse: _onResponse, ...base } = spec;
  return () => (setupRequest ? setupRequest({ ...base }) : { ...base });
}

function percentileOf(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

/**
 * Open-loop load at a steady rate: request i is due at start + i / rate and goes out then, whatever
 * the earlier ones are doing, and its latency counts from when it was due (no coordinated
 * omission). autocannon's `overallRate` is not that: each connection sends its per-second quota
 * back to back at the top of every second, so "500/s" is bursts at full speed and idle gaps.
 */
export async function pacedLoad(options: {
  url: string;
  rate: number;
  seconds: number;
  next: () => AutocannonRequest;
  timeoutMs?: number;
  /** Sees every reply's status and body (read only when this is given). */
  onResponse?: (status: number, body: string) => void;
}): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let settled = 0;
  const start = performance.now() + 5;

  await new Promise<void>((resolve) => {
    const done = () => {
      settled += 1;
      if (settled === total) resolve();
    };
    const fire = (due: number) => {
      const spec = options.next();
      const request = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: spec.method ?? 'GET',
          path: spec.path ?? '/',
          headers: spec.headers ?? {},
          timeout: options.timeoutMs ?? 10_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          if (options.onResponse) response.on('data', (chunk: Buffer) => chunks.push(chunk));
          else response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - due);
            const status = response.statusCode ?? 0;
            options.onResponse?.(status, Buffer.concat(chunks).toString('utf8'));
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if (status >= 200 && status < 300) ok += 1;
            else non2xx += 1;
            done();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        errors += 1;
        done();
      });
      request.end(spec.body);
    };
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        fire(start + sent * interval);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    ok,
    non2xx,
    errors,
    seconds: options.seconds,
    p50: percentileOf(latencies, 50),
    p90: percentileOf(latencies, 90),
    p99: percentileOf(latencies, 99),
    max: latencies.at(-1) ?? 0,
    statusCounts,
  };
}

/** Runs a bench's main: temp dirs and child servers are cleaned up, and a failure exits 1. */
export function runBench(main: () => Promise<void>, log: (message: string) => void): void {
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
}
