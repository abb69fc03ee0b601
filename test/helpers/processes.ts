/**
 * Real processes for end-to-end tests: the server (`src/main.ts`) and the `xlnc` command
 * (`bin/xlnc.js`), each with an environment of its own (nothing inherited but PATH).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ROOT } from './paths.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function startServer(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

/** Polls `url` until it answers 2xx; returns how long that took. */
export async function waitFor(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return Date.now() - started;
    } catch {
      // not up yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} not up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
let clockTicks: number | undefined;

/** CPU time (user + system) the process `pid` has used so far, in ms (Linux, from /proc/<pid>/stat). */
export function cpuTimeMs(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm) ": field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/**
 * Waits until the server process `child` answers `url` with a 2xx, and fails as soon as the
 * process exits instead (so a generous timeout costs nothing when the start goes wrong). Returns
 * the wall-clock time it took and the CPU time the process had used by then: on a loaded machine
 * the first stretches, the second is what the start itself costs.
 */
export async function serverUp(child: ChildProcess, url: string, timeoutMs: number): Promise<{ wallMs: number; cpuMs: number }> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return { wallMs: Date.now() - started, cpuMs: child.pid !== undefined ? cpuTimeMs(child.pid) : NaN };
    } catch {
      // not up yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} not up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

export interface XlncResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `xlnc` (bin/xlnc.js) with `args`, `env` (plus PATH) and optional stdin. */
export async function runXlnc(args: string[], env: Record<string, string>, options: { stdin?: string; timeoutMs?: number } = {}): Promise<XlncResult> {
  const child = spawn(process.execPath, ['bin/xlnc.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const code = await exited(child);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
