/**
 * The production start, as the image runs it. The Dockerfile's stages are replayed in a temporary
 * folder outside the repository (its dependency stage's `npm ci --omit=dev`, its COPY lines with
 * .dockerignore applied), then the image's commands (DEPLOY_COMMANDS: the API, the worker, the
 * release step) run there with NODE_ENV=production and the required secrets, as a non-root user
 * that cannot write the application's folder. PostgreSQL mode adds fresh databases of its own:
 * the worker running the API's jobs, and three instances starting at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_COMMANDS } from '../../deploy/commands.ts';
import { signRetellBody } from '../../src/webhooks/retell/retell-signature.ts';
import { replayImage, type ReplayedImage } from '../helpers/image-replay.ts';
import { ROOT } from '../helpers/paths.ts';
import { exited, freePort, waitFor } from '../helpers/processes.ts';
import { callEvent } from '../helpers/retell.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-db.ts';

/** The image's USER is non-root; here: nobody when the tests run as root (CI), else this user. */
const RUN_AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const AS_ROOT = process.getuid?.() === 0;

const SECRETS = {
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};
const MIGRATIONS = (JSON.parse(readFileSync(join(ROOT, 'migrations/meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

let image: ReplayedImage;
let into: string;
let home: string;

beforeAll(() => {
  // Outside the repository: Node must find no node_modules above the image's own.
  into = mkdtempSync(join(tmpdir(), 'xlnc-image-'));
  home = join(into, 'home');
  mkdirSync(home);
  // The non-root user's HOME and scratch space (mkdir's mode is masked by the umask).
  chmodSync(home, 0o777);
  image = replayImage({
    context: ROOT,
    into,
    runAs: RUN_AS,
    // The same commands as the image build; packages come from npm's local cache when it has them.
    runEnv: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? home, npm_config_prefer_offline: 'true' },
  });
}, 300_000);
afterAll(() => rmSync(into, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Runs one of the image's commands as the image would: its folder, its ENV, the non-root user. */
function run(command: readonly string[], env: Record<string, string>): Started {
  const [program = '', ...args] = command;
  let output = '';
  const child = spawn(program === 'node' ? process.execPath : program, args, {
    cwd: image.dir,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...image.env, LOG_LEVEL: 'info', ...env },
    uid: RUN_AS.uid,
    gid: RUN_AS.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode === null) started.child.kill('SIGTERM');
  return exited(started.child);
}

/** A database of its own on the test server, dropped by the returned function. */
async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(TEST_DATABASE_URL!);
  const name = `${base.pathname.slice(1)}_img_${randomBytes(4).toString('hex')}`.slice(-63);
  const admin = new URL(base);
  admin.pathname = '/postgres';
  const query = async (text: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await query(`create database "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`drop database if exists "${name}" with (force)`) };
}

async function rows<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const migrationLogs = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.includes('"msg":"database migrations applied"'))
    .map((line) => (JSON.parse(line) as { migrations: number }).migrations);

describe('the production image, replayed from the Dockerfile', () => {
  it('holds the production dependencies only: no tsx, vitest, drizzle-kit or TypeScript, no tests', () => {
    for (const devTool of ['tsx', 'vitest', 'drizzle-kit', 'typescript', 'esbuild', 'eslint']) {
      expect(existsSync(join(image.dir, 'node_modules', devTool)), devTool).toBe(false);
    }
    expect(existsSync(join(image.dir, 'node_modules/fastify'))).toBe(true);
    expect(existsSync(join(image.dir, 'test'))).toBe(false);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? files(join(dir, entry)) : [join(dir, entry)]));
    expect(files(join(image.dir, 'src')).filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    // No node_modules above the image's folder could lend a missing package.
    for (let dir = dirname(image.dir); dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
    expect(image.user).not.toMatch(/^(root|0)$/);
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.cmd).toEqual(DEPLOY_COMMANDS.api);
  });

  it('the API starts as a non-root user with NODE_ENV=production and its secrets: /ready 200, the HEALTHCHECK passes, SIGTERM exits 0', async () => {
    const database = TEST_DATABASE_URL ? await scratchDatabase() : undefined;
    const port = await freePort();
    const env = {
      ...SECRETS,
      PORT: String(port),
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
    };
    const api = run(image.cmd, env);
    try {
      await waitFor(`http://127.0.0.1:${port}/health`, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${api.output()}`);
      });
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status, api.output()).toBe(200);
      expect(((await ready.json()) as { status: string }).status).toBe('ready');
      const unsigned = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/smart-tax-nation`, { method: 'POST', body: '{}' });
      expect(unsigned.status, 'the example client is loaded').toBe(401);
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${api.child.pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).toBe(RUN_AS.uid);

      const healthcheck = run(image.healthcheck, { PORT: String(port) });
      expect(await exited(healthcheck.child), healthcheck.output()).toBe(0);
      if (AS_ROOT) {
        // The application's files belong to root, as in the image: its user can write none of them.
        const probe = spawnSync(process.execPath, ['-e', "require('fs').writeFileSync('src/probe', '')"], { cwd: image.dir, uid: RUN_AS.uid, gid: RUN_AS.gid });
        expect(probe.status).not.toBe(0);
        expect(probe.stderr.toString()).toContain('EACCES');
      }
    } finally {
      expect(await stop(api)).toBe(0);
      await database?.drop();
    }
    expect(api.output()).not.toMatch(/"level":(50|60)/);
    expect(migrationLogs(api.output())).toEqual([MIGRATIONS]);
  }, 120_000);

  it('without its secrets the API refuses to start and names each missing one', async () => {
    const api = run(image.cmd, { PORT: String(await freePort()) });
    expect(await exited(api.child)).toBe(1);
    for (const name of Object.keys(SECRETS)) expect(api.output()).toContain(`${name} is required when NODE_ENV=production`);
  });

  it('the release step applies the migrations, and a second run finds nothing left to do', async () => {
    const database = TEST_DATABASE_URL ? await scratchDatabase() : undefined;
    const env = { ...SECRETS, ...(database ? { DATABASE_URL: database.url } : { DATA_DIR: join(home, `release-${randomBytes(3).toString('hex')}`) }) };
    try {
      const first = run(DEPLOY_COMMANDS.migrate, env);
      expect(await exited(first.child), first.output()).toBe(0);
      expect(first.output()).toMatch(new RegExp(`Migrations applied \\((postgres|pglite)\\): ${MIGRATIONS} this run; job queue schema "pgboss" ready`));
      const second = run(DEPLOY_COMMANDS.migrate, env);
      expect(await exited(second.child), second.output()).toBe(0);
      expect(second.output()).toContain('): 0 this run');
    } finally {
      await database?.drop();
    }
  }, 120_000);

  // A worker of its own needs a shared database: PGlite allows one process per data folder.
  it.runIf(TEST_DATABASE_URL)('the API (WORKERS_IN_PROCESS=false) and the worker command: the worker runs the jobs the API enqueued', async () => {
    const database = await scratchDatabase();
    const port = await freePort();
    const env = { ...SECRETS, PORT: String(port), DATABASE_URL: database.url, ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}) };
    const api = run(image.cmd, { ...env, WORKERS_IN_PROCESS: 'false' });
    let worker: Started | undefined;
    try {
      await waitFor(`http://127.0.0.1:${port}/ready`, 60_000);
      worker = run(DEPLOY_COMMANDS.worker, env);
      const client = JSON.parse(readFileSync(join(image.dir, 'config/clients/smart-tax-nation.json'), 'utf8')) as {
        retell: { api_key: string; agent_ids: string[] };
      };
      const callId = `call_image_${randomBytes(4).toString('hex')}`;
      const body = JSON.stringify(callEvent('smart-tax-nation', 'call_ended', callId, { agent_id: client.retell.agent_ids[0] }));
      const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/retell/smart-tax-nation`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, client.retell.api_key, Date.now()) },
        body,
      });
      expect(res.status).toBe(204);
      const deadline = Date.now() + 45_000;
      for (;;) {
        const [run] = await rows<{ n: number }>(database.url, `select count(*)::int as n from workflow_runs where call_id = '${callId}'`);
        if (run?.n === 1) break;
        if (Date.now() > deadline) throw new Error(`the worker did not run the post-call job\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(worker.output()).toContain('"msg":"worker started"');
    } finally {
      expect(await stop(api)).toBe(0);
      if (worker) expect(await stop(worker)).toBe(0);
      await database.drop();
    }
  }, 120_000);

  it.runIf(TEST_DATABASE_URL)('three API instances starting at once on a fresh database: the migrations are applied exactly once, all three get ready', async () => {
    const database = await scratchDatabase();
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const instances = ports.map((port) =>
      run(image.cmd, { ...SECRETS, PORT: String(port), DATABASE_URL: database.url, ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}) }),
    );
    try {
      await Promise.all(
        ports.map((port, i) =>
          waitFor(`http://127.0.0.1:${port}/ready`, 90_000).catch((error: unknown) => {
            throw new Error(`instance ${i} on ${port}: ${String(error)}\n${instances[i]!.output()}`);
          }),
        ),
      );
      const applied = instances.map((instance) => migrationLogs(instance.output()));
      expect(applied.flat()).toEqual([MIGRATIONS]);
      const [recorded] = await rows<{ n: number; distinct_hashes: number }>(
        database.url,
        'select count(*)::int as n, count(distinct hash)::int as distinct_hashes from drizzle.__drizzle_migrations',
      );
      expect(recorded).toEqual({ n: MIGRATIONS, distinct_hashes: MIGRATIONS });
      const [boss] = await rows<{ n: number }>(database.url, 'select count(*)::int as n from pgboss.version');
      expect(boss?.n).toBe(1);
    } finally {
      const codes = await Promise.all(instances.map(stop));
      await database.drop();
      expect(codes).toEqual([0, 0, 0]);
    }
    for (const instance of instances) expect(instance.output()).not.toMatch(/"level":(50|60)/);
  }, 150_000);
});
