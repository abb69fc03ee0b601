/**
 * The README's five-minute tour as a script: every `$` command between the `tour:start` and
 * `tour:end` markers, with the output shown under it. `runTour` runs them in a fresh copy of the
 * repository (its tracked files, node_modules linked in place of `npm ci`): `npm start` in the
 * background on a free port, the rest one after the other in one bash session, as a person types
 * them in a second terminal. Run directly (`node test/helpers/readme-tour.ts [folder]`) it
 * prints what each command printed, for pasting into the README.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './paths.ts';
import { freePort, waitFor } from './processes.ts';

export interface TourStep {
  command: string;
  expected: string[];
}

/** The tour's commands and the output lines shown under each. */
export function parseTour(readme: string): TourStep[] {
  const start = readme.indexOf('<!-- tour:start');
  const end = readme.indexOf('<!-- tour:end -->');
  if (start < 0 || end < start) throw new Error('README has no tour:start / tour:end markers');
  const steps: TourStep[] = [];
  const blocks = readme.slice(start, end).split('```console\n').slice(1);
  for (const block of blocks) {
    const lines = block.slice(0, block.indexOf('```')).replace(/\n$/, '').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line.startsWith('$ ')) {
        let command = line.slice(2);
        const heredoc = /<<'(\w+)'/.exec(command);
        if (heredoc) {
          while (i + 1 < lines.length && lines[i] !== heredoc[1]) command += `\n${lines[++i] ?? ''}`;
        }
        steps.push({ command, expected: [] });
      } else {
        steps.at(-1)?.expected.push(line);
      }
    }
  }
  return steps;
}

/** A line as the reader sees it: the tour runs on a free port, the reader on 3000. */
function asOnPort3000(line: string, port: number): string {
  return line.replaceAll(`localhost:${port}`, 'localhost:3000').replaceAll(`127.0.0.1:${port}`, '127.0.0.1:3000').trimEnd();
}

/** Lines compared without what differs between runs: the port, process ids. */
export function normalizeTourLine(line: string, port: number): string {
  return asOnPort3000(line, port).replace(/process \d+/g, 'process N');
}

/** Whether an actual line matches a shown one (`…` at the end: compared up to there). */
export function tourLineMatches(shown: string, actual: string): boolean {
  return shown.endsWith('…') ? actual.startsWith(shown.slice(0, -1)) : actual === shown;
}

/** A fresh copy of the repository: its files (tracked, and new ones not ignored), node_modules linked. */
function copyRepository(): string {
  const target = mkdtempSync(join(tmpdir(), 'xlnc-tour-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    try {
      copyFileSync(join(ROOT, file), join(target, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted in the work tree
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(target, 'node_modules'), 'dir');
  return target;
}

const MARKER = '@@tour-step-done@@';

/** One bash session, fed a command at a time; returns each command's merged stdout and stderr. */
function bashSession(cwd: string, env: NodeJS.ProcessEnv) {
  const bash: ChildProcessWithoutNullStreams = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: 'pipe' });
  let buffer = '';
  let waiting: ((text: string) => void) | undefined;
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString();
    const at = buffer.indexOf(MARKER);
    if (at >= 0 && waiting) {
      const lineEnd = buffer.indexOf('\n', at);
      if (lineEnd < 0) return;
      const text = buffer.slice(0, at);
      buffer = buffer.slice(lineEnd + 1);
      const resolve = waiting;
      waiting = undefined;
      resolve(text);
    }
  };
  bash.stdout.on('data', onData);
  bash.stdin.write('exec 2>&1\n');
  return {
    run(command: string): Promise<string> {
      return new Promise((resolve) => {
        waiting = resolve;
        bash.stdin.write(`${command}\necho; echo "${MARKER} $?"\n`);
      });
    },
    close() {
      bash.stdin.end();
      bash.kill();
    },
  };
}

export interface TourResult {
  port: number;
  /** `actual`: normalized for comparison; `printed`: as the reader sees it (on port 3000). */
  steps: (TourStep & { actual: string[]; printed: string[] })[];
}

/**
 * Runs the tour. `before(step)` may wait for something the reader would have waited for (the
 * server noticing a new client file) before a command runs.
 */
export async function runTour(readme: string, options: { keep?: boolean } = {}): Promise<TourResult> {
  const steps = parseTour(readme);
  const dir = copyRepository();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    LANG: 'C.UTF-8',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  let server: ReturnType<typeof spawn> | undefined;
  const session = bashSession(dir, env);
  const results: TourResult['steps'] = [];
  try {
    for (const step of steps) {
      const command = step.command.replaceAll('localhost:3000', `localhost:${port}`);
      if (step.command === 'npm ci') {
        results.push({ ...step, actual: [], printed: [] }); // node_modules is linked into the copy instead
        continue;
      }
      if (step.command === 'npm start') {
        server = spawn('npm', ['start'], { cwd: dir, env: { ...env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'ignore', detached: true });
        await waitFor(`http://127.0.0.1:${port}/health`, 60_000);
        results.push({ ...step, actual: [], printed: [] });
        continue;
      }
      // A reader runs the next command seconds after writing a client file; wait as they would.
      const simulated = /simulate-call --client (\S+)/.exec(command)?.[1];
      if (simulated) await waitForClient(port, simulated);
      const output = await session.run(command);
      const lines = output.replace(/\n$/, '').split('\n');
      if (lines.at(-1) === '') lines.pop();
      results.push({ ...step, actual: lines.map((line) => normalizeTourLine(line, port)), printed: lines.map((line) => asOnPort3000(line, port)) });
    }
  } finally {
    session.close();
    if (server?.pid !== undefined) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise<void>((resolve) => (server?.exitCode !== null ? resolve() : server.once('exit', () => resolve())));
    }
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
  return { port, steps: results };
}

async function waitForClient(port: number, clientId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    // Known to the server once an unsigned event is refused for its signature (401), not as an unknown client (404).
    const probe = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/${clientId}`, { method: 'POST', body: '{}' });
    if (probe.status === 401 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runTour(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  for (const step of result.steps) process.stdout.write(`$ ${step.command}\n${step.printed.map((line) => `${line}\n`).join('')}`);
}
