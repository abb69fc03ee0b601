/**
 * call_inbound is answered even when it cannot be stored (the caller hears ringing until we do),
 * so an answered event the database did not take goes to a local spool first: one JSON line per
 * event, appended and fsync'd in DATA_DIR before the answer leaves. A drain stores the spooled
 * events once the database answers again (every DRAIN_INTERVAL_MS while anything is spooled, and
 * at startup for what a crash left). Storing is idempotent by the event's dedupe key
 * (`call_inbound:{call_id}`), so an event drained twice, or also delivered again by Retell, is
 * stored once.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isServable, type ServableClient } from '../../clients/client.schema.ts';
import type { ClientRegistry } from '../../clients/client-registry.ts';
import { isDatabaseUnavailable } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logging.ts';
import { parseRetellEvent } from './retell-events.schemas.ts';
import { ingestRetellEvent, type IngestDeps } from './webhooks.service.ts';

/** One answered call_inbound: the exact bytes Retell sent and the decision it was answered with. */
export interface SpooledInbound {
  client_id: string;
  /** The request body as received (UTF-8 JSON). */
  body: string;
  decision: string;
  spooled_at: string;
}

export interface InboundSpool {
  /** Appends the event durably (written and fsync'd) before it resolves. */
  append(entry: Omit<SpooledInbound, 'spooled_at'>): Promise<void>;
  /** Stores what is spooled; stops at the first "database unavailable" and keeps the rest. */
  drain(): Promise<{ stored: number; duplicate: number; kept: number; rejected: number }>;
  /** Drains now, then every DRAIN_INTERVAL_MS while anything is spooled. */
  start(): void;
  close(): Promise<void>;
}

export const SPOOL_DIR = 'spool';
const SPOOL_FILE = 'call-inbound.jsonl';
const DRAINING_SUFFIX = '.draining.jsonl';
/** Lines that cannot be stored however often we try (unparsable, client gone): kept here, and logged. */
const REJECTED_FILE = 'call-inbound.rejected.jsonl';
export const DRAIN_INTERVAL_MS = 1_000;

export interface InboundSpoolDeps extends IngestDeps {
  registry: ClientRegistry;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Writes `text` to `path` and fsyncs it before resolving. */
async function durableWrite(path: string, text: string, flag: 'a' | 'w'): Promise<void> {
  const file = await open(path, flag, 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** fsyncs a folder, so a rename or a newly created file in it survives a crash too. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createInboundSpool(dataDir: string, deps: InboundSpoolDeps): InboundSpool {
  const dir = join(dataDir, SPOOL_DIR);
  const spoolPath = join(dir, SPOOL_FILE);
  let created = false;
  let pending = false;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<Awaited<ReturnType<InboundSpool['drain']>>> | undefined;
  let closed = false;

  const ensureDir = async () => {
    if (created) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    created = true;
  };

  /** Stores one spooled line: 'stored' | 'duplicate', or throws. */
  async function store(line: string): Promise<'stored' | 'duplicate' | 'rejected'> {
    let entry: SpooledInbound;
    try {
      entry = JSON.parse(line) as SpooledInbound;
    } catch {
      return 'rejected';
    }
    const record = deps.registry.get(entry.client_id);
    if (!record || !isServable(record)) return 'rejected';
    const client: ServableClient = record;
    let body: unknown;
    try {
      body = JSON.parse(entry.body);
    } catch {
      return 'rejected';
    }
    const parsed = parseRetellEvent(body);
    if (!parsed.ok || parsed.value.kind !== 'inbound') return 'rejected';
    const stored = { ...parsed.value, payload: { ...parsed.value.payload, xlnc_decision: entry.decision } };
    const { outcome } = await ingestRetellEvent(client, stored, Buffer.from(entry.body, 'utf8'), deps);
    return outcome === 'accepted' ? 'stored' : 'duplicate';
  }

  async function drainFile(path: string, totals: { stored: number; duplicate: number; kept: number; rejected: number }): Promise<boolean> {
    const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      let result: 'stored' | 'duplicate' | 'rejected';
      try {
        result = await store(line);
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          // Still down: keep this line and the ones after it for the next drain.
          const rest = lines.slice(i);
          totals.kept += rest.length;
          await durableWrite(`${path}.tmp`, `${rest.join('\n')}\n`, 'w');
          await rename(`${path}.tmp`, path);
          return false;
        }
        deps.logger.error({ err: error }, 'a spooled call_inbound could not be stored; kept in the rejected spool file');
        result = 'rejected';
      }
      if (result === 'rejected') {
        totals.rejected++;
        await durableWrite(join(dir, REJECTED_FILE), `${line}\n`, 'a');
        deps.logger.error({ file: join(SPOOL_DIR, REJECTED_FILE) }, 'a spooled call_inbound cannot be stored (unreadable, or its client is gone)');
      } else {
        totals[result]++;
      }
    }
    await rm(path, { force: true });
    return true;
  }

  async function drainOnce() {
    const totals = { stored: 0, duplicate: 0, kept: 0, rejected: 0 };
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return totals;
    }
    if (names.includes(SPOOL_FILE)) {
      // New events go on to a fresh file while this one drains.
      await rename(spoolPath, join(dir, `call-inbound.${Date.now()}.${randomUUID().slice(0, 8)}${DRAINING_SUFFIX}`));
      names = await readdir(dir);
    }
    const files = names.filter((name) => name.endsWith(DRAINING_SUFFIX)).sort();
    for (const name of files) {
      if (!(await drainFile(join(dir, name), totals))) {
        pending = true;
        break;
      }
    }
    if (totals.stored + totals.duplicate > 0) deps.logger.info(totals, 'spooled call_inbound events stored');
    return totals;
  }

  const spool: InboundSpool = {
    async append(entry) {
      await ensureDir();
      const fresh = !pending;
      await durableWrite(spoolPath, `${JSON.stringify({ ...entry, spooled_at: new Date().toISOString() })}\n`, 'a');
      if (fresh) await syncDir(dir);
      pending = true;
      deps.logger.warn({ client_id: entry.client_id }, 'call_inbound answered but not stored; spooled in DATA_DIR until the database answers');
    },
    drain() {
      draining ??= (async () => {
        try {
          pending = false;
          return await drainOnce();
        } catch (error) {
          pending = true;
          throw error;
        } finally {
          draining = undefined;
        }
      })();
      return draining;
    },
    start() {
      const tick = () => {
        if (closed) return;
        timer = setTimeout(() => {
          const run = pending ? spool.drain().catch((error: unknown) => deps.logger.warn({ err: error }, 'call_inbound spool drain failed')) : Promise.resolve();
          void run.then(tick);
        }, DRAIN_INTERVAL_MS);
        timer.unref();
      };
      // What an earlier process left (it stopped or crashed while the database was down).
      pending = true;
      void spool
        .drain()
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'call_inbound spool drain failed'))
        .then(tick);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await draining?.catch(() => undefined);
    },
  };
  return spool;
}

/** For tests and operators: the lines spooled and not yet stored. */
export async function spooledLines(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, SPOOL_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const name of names.filter((n) => n === SPOOL_FILE || n.endsWith(DRAINING_SUFFIX))) {
    lines.push(...(await readFile(join(dir, name), 'utf8')).split('\n').filter((line) => line.trim() !== ''));
  }
  return lines;
}
