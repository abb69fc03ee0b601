/**
 * Opens the platform database: embedded PGlite in DATA_DIR when DATABASE_URL is unset, a real
 * PostgreSQL server otherwise. Both speak the same SQL, run the same migrations and return the
 * same drizzle `Db`, so nothing above this file knows which one it has.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type ExtractTablesWithRelations, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { embeddedAccessUrl, EMBEDDED_ACCESS_FILE, readEmbeddedAccess, removeStaleEmbeddedAccess, type EmbeddedAccessRecord } from './embedded-access.ts';
import { isProcessAlive } from '../processes.ts';
import { schema } from './schema.ts';

type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** The minimal seam pg-boss needs (its whole database dependency). */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** One parameterised statement, ready for the wire. */
export interface SqlStatement {
  text: string;
  params: unknown[];
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Raw parameterised SQL on the pool, outside any transaction. */
  readonly executor: SqlExecutor;
  /** Present in embedded mode: the PGlite instance (pg-boss's `fromPglite` wants it). */
  readonly pglite?: PGlite;
  /** Set when this is another process's embedded database, reached through its share: that process's pid. */
  readonly sharedBy?: number;
  /**
   * Runs the statements in one transaction, all or nothing, and returns their rows in order. The
   * statements are fixed up front (none depends on another's result in JavaScript), so on
   * PostgreSQL they go out pipelined: one round trip for the whole transaction instead of one
   * per statement. That is what lets the webhook route take thousands of events a second.
   */
  batch(statements: readonly SqlStatement[]): Promise<{ rows: unknown[] }[]>;
  /**
   * Runs `steps` holding the schema lock: on PostgreSQL a session advisory lock on a connection of
   * its own, so of several processes starting together (instances, a release step) one changes the
   * schema at a time and the others wait, then find the work done. Concurrent DDL and GRANTs
   * otherwise fail ("tuple concurrently updated", "type … already exists"). Re-entrant: `migrate`
   * inside `steps` does not wait for itself. PGlite: one process per data folder, nothing to wait for.
   */
  withSchemaLock<T>(steps: () => Promise<T>): Promise<T>;
  /** Applies the migrations not yet applied, under the schema lock; returns how many it applied. */
  migrate(): Promise<number>;
  /** Whether every migration in the repository has been applied. */
  migrationsApplied(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
/** The advisory lock key of schema changes (migrations, the job queue's tables and grants). */
const SCHEMA_LOCK_ID = 727_001;

function journalSize(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/** Rows of a raw SQL query; both drivers return `{ rows }`. */
export async function sqlRows<T>(runner: Db | Tx, query: SQL): Promise<T[]> {
  const result = (await runner.execute(query)) as { rows: T[] };
  return result.rows;
}

/** Rows affected by a raw SQL statement (node-postgres says rowCount, PGlite affectedRows). */
export async function sqlRowCount(runner: Db | Tx, query: SQL): Promise<number> {
  const result = (await runner.execute(query)) as { rowCount?: number | null; affectedRows?: number };
  return result.rowCount ?? result.affectedRows ?? 0;
}

async function appliedCount(db: Db): Promise<number> {
  const [exists] = await sqlRows<{ present: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!exists?.present) return 0;
  const [result] = await sqlRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return result?.n ?? 0;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; unset means embedded PGlite. */
  url?: string | undefined;
  /** Embedded mode: the data folder (created if missing). */
  dataDir: string;
  /** Embedded mode: start from this dump (tests copy a migrated template instead of migrating). */
  loadDataDir?: Blob | File;
  /** Embedded mode: keep the database in memory (tests). */
  inMemory?: boolean;
  /** PostgreSQL: connections in the pool (DB_POOL_SIZE). */
  poolSize?: number;
  /**
   * Embedded mode: `server` for a long-lived process that shares the folder with commands once
   * it is open; `command` (default) for a one-off command, which uses a server's share if one holds it.
   */
  role?: DataDirRole;
}

export const DEFAULT_POOL_SIZE = 10;

/**
 * Embedded mode from a command (`role: 'command'`, the default) while a server holds DATA_DIR:
 * the server's database, reached through the loopback port it shares it on (embedded-access.ts),
 * so every command works while `npm start` runs. A server (`role: 'server'`) opens the folder itself.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolSize ?? DEFAULT_POOL_SIZE) : openEmbedded(options);
}

/**
 * Batch statements are a handful of fixed templates: each is prepared once per connection (a named
 * statement), so the server parses and plans it once instead of on every event.
 */
const preparedNames = new Map<string, string>();
function preparedName(text: string): string {
  let name = preparedNames.get(text);
  if (!name) {
    name = `xlnc_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    if (preparedNames.size < 1_000) preparedNames.set(text, name);
  }
  return name;
}

/**
 * Sends every statement of the transaction without waiting for the one before: node-postgres in
 * pipeline mode writes them back to back and the server answers them in order. When a statement fails the
 * server aborts the transaction, the statements behind it fail too, and the final COMMIT becomes
 * a ROLLBACK: all or nothing, as with one statement at a time.
 */
async function pipelinedTransaction(pool: pg.Pool, statements: readonly SqlStatement[]): Promise<{ rows: unknown[] }[]> {
  const client = await pool.connect();
  let connectionLost: Error | undefined;
  try {
    // node-postgres writes each query as it is issued; corked, the transaction leaves in one write
    // (each write is a system call: a third of this process's time under load, measured).
    const socket = (client as unknown as { connection?: { stream?: Partial<Pick<Writable, 'cork' | 'uncork'>> } }).connection?.stream;
    const sent: Promise<pg.QueryResult>[] = [];
    socket?.cork?.();
    try {
      sent.push(client.query('begin'));
      for (const statement of statements) {
        sent.push(client.query({ name: preparedName(statement.text), text: statement.text, values: statement.params }));
      }
      sent.push(client.query('commit'));
    } finally {
      socket?.uncork?.();
    }
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) {
      const error = failed.reason as Error & { code?: string };
      // A server error (it has a SQLSTATE) leaves the connection usable; anything else does not.
      if (!error.code) connectionLost = error;
      throw error;
    }
    const results = settled as PromiseFulfilledResult<pg.QueryResult>[];
    return results.slice(1, -1).map((outcome) => outcome.value);
  } finally {
    client.release(connectionLost);
  }
}

/** Runs a migrator and returns how many migrations it applied. */
async function countApplied(db: Db, run: () => Promise<void>): Promise<number> {
  const before = await appliedCount(db);
  await run();
  return (await appliedCount(db)) - before;
}

/** The schema lock on PostgreSQL (see Database.withSchemaLock). */
function postgresSchemaLock(url: string): Database['withSchemaLock'] {
  let held = 0;
  return async (steps) => {
    if (held > 0) return steps();
    const client = new pg.Client({ connectionString: url });
    // A server restart while waiting fails the query below; it must not kill the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [SCHEMA_LOCK_ID]);
      held++;
      try {
        return await steps();
      } finally {
        held--;
      }
    } finally {
      // Ending the session releases the lock too, should the unlock not get through.
      await client.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK_ID]).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  };
}

/**
 * How long a request waits for a pooled connection before it is told the database is unavailable
 * (a 503): while the server is down a connection attempt is refused at once, but one to a server
 * that does not answer would otherwise wait for ever.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A pool whose connections survive the server going away. pg-pool listens for errors only on
 * idle clients; a checked-out client (a transaction between two statements, a pipelined batch)
 * whose server ends the session (57P01 on a restart, "Connection terminated unexpectedly") emits
 * `error` with nobody listening, which kills the process. Every client gets a listener of its own
 * when it connects; its in-flight query fails, pg-pool drops it on release, and the next checkout
 * connects again.
 */
export function resilientPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...config });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = resilientPool({ connectionString: url, max: poolSize });
  // Batches get their own connections in pipeline mode (queries issued without awaiting each other
  // share one round trip); everything else keeps plain one-query-at-a-time connections.
  const batchPool = resilientPool({ connectionString: url, max: poolSize, pipeline: true });
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  const withSchemaLock = postgresSchemaLock(url);
  return {
    kind: 'postgres',
    db,
    executor: { executeSql: async (text, values) => pool.query(text, values) },
    batch: (statements) => pipelinedTransaction(batchPool, statements),
    withSchemaLock,
    migrate: () => withSchemaLock(() => countApplied(db, () => migratePg(drizzlePg({ client: pool }), { migrationsFolder: MIGRATIONS_DIR }))),
    migrationsApplied: async () => (await appliedCount(db)) >= journalSize(),
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await Promise.all([pool.end(), batchPool.end()]);
    },
  };
}

/**
 * PGlite allows one process per data folder; a second one would corrupt it. A lock file holding
 * our PID and role guards the folder; a lock left by a dead process is taken over.
 */
const LOCK_FILE = 'xlnc.lock';

/** Who holds a data folder: a long-lived process that shares it, or a one-off command. */
export type DataDirRole = 'server' | 'command';

interface LockHolder {
  pid: number;
  role: DataDirRole;
}

/** The live process holding `dir`, if any (a lock left by a dead process does not count). */
function lockHolder(dir: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, role] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isProcessAlive(pid)) return undefined;
  return { pid, role: role === 'server' ? 'server' : 'command' };
}

function lockDataDir(dir: string, role: DataDirRole): () => void {
  const lockPath = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${role}\n`);
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(dir);
      if (holder) throw inUseError(dir, holder);
      rmSync(lockPath, { force: true });
      removeStaleEmbeddedAccess(dir);
    }
  }
  throw new Error(`Could not lock the data folder ${dir}`);
}

function inUseError(dir: string, holder: LockHolder): Error {
  const who = holder.role === 'server' ? 'an xlnc server' : 'another xlnc command';
  return new Error(
    `The embedded database in ${dir} is in use by ${who} (process ${holder.pid}). PGlite allows one process per data folder: ` +
      (holder.role === 'server'
        ? 'stop that server, use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server.'
        : 'run this again when that command has finished, or set DATABASE_URL to share a PostgreSQL server.'),
  );
}

/** How long a command waits for a server that holds the folder to share it (it migrates first). */
const SHARE_WAIT_MS = 30_000;

/**
 * Embedded mode, folder held by a live server: the address it shares the database at. A server
 * that is still starting (lock taken, migrations running) is waited for; a record written by an
 * earlier process (a crash leaves it) is ignored, since its pid is not the holder's.
 */
async function sharedAccess(dir: string, holder: LockHolder): Promise<EmbeddedAccessRecord> {
  const deadline = Date.now() + SHARE_WAIT_MS;
  for (;;) {
    const record = readEmbeddedAccess(dir);
    if (record?.pid === holder.pid) return record;
    const current = lockHolder(dir);
    if (!current || current.pid !== holder.pid) throw new RetryOpen();
    if (Date.now() > deadline) {
      throw new Error(
        `The embedded database in ${dir} is held by process ${holder.pid}, which has not shared it within ${SHARE_WAIT_MS / 1000} s ` +
          `(no ${EMBEDDED_ACCESS_FILE} of its own). If it is an xlnc server still starting, try again; otherwise stop it.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The holder went away while we waited: open the folder ourselves. */
class RetryOpen extends Error {}

async function openEmbedded(options: OpenDatabaseOptions): Promise<Database> {
  if (options.inMemory) return openPglite(options);
  mkdirSync(options.dataDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const holder = lockHolder(options.dataDir);
    if (!holder || options.role === 'server') return openPglite(options);
    if (holder.role !== 'server') throw inUseError(options.dataDir, holder);
    try {
      const record = await sharedAccess(options.dataDir, holder);
      const database = await openPostgres(embeddedAccessUrl(record), Math.min(options.poolSize ?? 2, 2));
      try {
        await database.ping();
      } catch (error) {
        await database.close();
        throw new Error(
          `The server (process ${holder.pid}) holds the embedded database in ${options.dataDir} but did not answer at ${record.host}:${record.port}: ` +
            `${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return { ...database, sharedBy: holder.pid };
    } catch (error) {
      if (!(error instanceof RetryOpen) || attempt > 2) throw error;
    }
  }
}

async function openPglite(options: OpenDatabaseOptions): Promise<Database> {
  let unlock: () => void = () => undefined;
  let dataDir: string | undefined;
  if (!options.inMemory) {
    mkdirSync(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir, options.role ?? 'command');
    dataDir = join(options.dataDir, 'pglite');
  }
  let client: PGlite;
  try {
    client = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  } catch (error) {
    unlock();
    throw error;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    pglite: client,
    executor: { executeSql: async (text, values) => client.query(text, values) },
    // In-process: no round trips to save, so one statement after another.
    batch: (statements) =>
      client.transaction(async (tx) => {
        const results: { rows: unknown[] }[] = [];
        for (const statement of statements) results.push(await tx.query(statement.text, statement.params));
        return results;
      }),
    withSchemaLock: (steps) => steps(),
    migrate: () => countApplied(db, () => migratePglite(drizzlePglite({ client }), { migrationsFolder: MIGRATIONS_DIR })),
    migrationsApplied: async () => (await appliedCount(db)) >= journalSize(),
    async ping() {
      await client.query('select 1');
    },
    async close() {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}
