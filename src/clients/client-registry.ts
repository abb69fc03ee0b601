import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ClientFileResult } from './client-loader.ts';
import type { ClientLoadStatus, ClientRecord, ConfigIssue } from './client.schema.ts';
import { listClientFileNames, loadClientFileSync, mapYielding, parseClientSource, type Pace } from './client-loader.ts';

export type ClientChange = { added: string[]; updated: string[]; removed: string[] };

export type ReloadSummary = ClientChange & { invalid: string[]; durationMs: number };

/**
 * Cross-instance "client files changed" announcement (Redis pub/sub in production).
 * `subscribe` resolves to an unsubscribe function.
 */
export type ReloadSignal = {
  publish(): Promise<void>;
  subscribe(onSignal: () => void): Promise<() => Promise<void>>;
};

export type ClientRegistryOptions = {
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  encryptionKeys: Buffer[];
  /** CONFIG_STRICT: any invalid client makes start() throw instead of serving the others. */
  strict: boolean;
  logger: Logger;
  /** Receives every resolved secret once, for log redaction. */
  onSecret?: (value: string) => void;
  signal?: ReloadSignal;
  /**
   * Directory re-scan interval; fs.watch alone misses events on some filesystems. Default 500
   * (longer when scans are slow: see schedulePoll); 0 disables.
   */
  pollIntervalMs?: number;
  /** Use fs.watch for prompt reloads (default true); polling still runs. */
  watch?: boolean;
};

export type ExternalUpsertResult = { accepted: true } | { accepted: false; issues: ConfigIssue[] };

export type ClientRegistry = {
  start(): Promise<void>;
  get(id: string): ClientRecord | undefined;
  list(): ClientRecord[];
  countsByStatus(): Record<ClientLoadStatus, number>;
  reload(): Promise<ReloadSummary>;
  onChange(listener: (change: ClientChange) => void): () => void;
  upsertExternal(record: ClientRecord): ExternalUpsertResult;
  removeExternal(id: string): boolean;
  close(): Promise<void>;
};

/**
 * `readAt` is the wall-clock time the bytes behind `record` were read; `bytesHash` their hash, so
 * re-reading unchanged bytes (a racy mtime) costs a read, not a parse and validation.
 */
/** 'start' is the initial load: it is not a change, so it is neither emitted nor announced. */
/** local: a change seen here (fs.watch, reload()); poll: the timer's re-scan; signal: another instance's. */
type ReloadOrigin = 'start' | 'local' | 'poll' | 'signal';

type FileState = { mtimeMs: number; size: number; readAt: number; bytesHash: string; record: ClientRecord };

const watchDebounceMs = 100;
// A file read within this long of its mtime may have been rewritten in the same mtime tick with
// the same size (coarse timestamps on some filesystems), so it is re-read and compared by hash
// until it is older than this ("racy" entries, as git calls them).
const racyWindowMs = 1_000;
/** A re-scan waits at least this many times as long as the previous one took. */
const POLL_BUDGET_FACTOR = 20;
/**
 * The timer's re-scans work in 2 ms slices with 8 ms rests: at most a fifth of the main thread
 * while one runs. Flat out, a re-scan of 10,000 files (~120 ms of stat calls) doubled the webhook
 * route's p99 against 10 clients (bench:webhooks); paced, the gap is within the noise between
 * runs. Reloads someone waits for (start, fs.watch, reload(), another instance's signal) still
 * run flat out.
 */
const BACKGROUND_PACE: Pace = { sliceMs: 2, restMs: 8 };

export function createClientRegistry(opts: ClientRegistryOptions): ClientRegistry {
  const { dir, logger } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? 500;
  // The loader's own warnings are silenced here and re-logged by report(), which runs only for
  // files that really changed (a racy re-read of unchanged bytes must not repeat them).
  const loaderContext = { env: opts.env, encryptionKeys: opts.encryptionKeys, logger: logger.child({}, { level: 'silent' }) };

  // Both maps are replaced, never mutated, so a reader holding one (or a record from one) keeps a
  // consistent view while a reload builds the next.
  let files = new Map<string, FileState>(); // by file name
  let byId = new Map<string, ClientRecord>(); // file-backed clients
  let external = new Map<string, ClientRecord>(); // database-backed clients

  const listeners = new Set<(change: ClientChange) => void>();
  const knownSecrets = new Set<string>();
  const hintedLegacy = new Set<string>();
  let reloadChain: Promise<unknown> = Promise.resolve();
  let reloading = false;
  let watcher: FSWatcher | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  function toRecord(result: ClientFileResult): ClientRecord {
    return Object.freeze({
      id: result.id,
      source: 'file' as const,
      file: result.file,
      status: result.status,
      config: result.config,
      issues: Object.freeze(result.issues.map((issue) => Object.freeze(issue))),
      configHash: result.configHash,
      loadedAt: new Date(),
    });
  }

  function report(result: ClientFileResult): void {
    for (const secret of result.secretValues) {
      if (!knownSecrets.has(secret)) {
        knownSecrets.add(secret);
        opts.onSecret?.(secret);
      }
    }
    for (const warning of result.warnings) logger.warn({ client_id: result.id, file: result.file }, warning);
    if (result.legacyHint !== null && !hintedLegacy.has(result.id)) {
      hintedLegacy.add(result.id);
      logger.info({ client_id: result.id, file: result.file }, result.legacyHint);
    }
    if (result.status === 'invalid') {
      logger.error(
        { client_id: result.id, file: result.file, issues: result.issues.map((issue) => `${issue.path}: ${issue.message}`) },
        'client config invalid; this client is refused until the file is fixed',
      );
    }
  }

  async function scan(origin: ReloadOrigin): Promise<ReloadSummary> {
    const startedAt = performance.now();
    let names: string[];
    try {
      names = await listClientFileNames(dir);
    } catch (error) {
      // A vanished or unreadable directory is treated as "no change" rather than "delete all":
      // a transient mount problem must not take every client offline.
      logger.error({ dir, err: error }, 'cannot read clients directory; keeping the loaded clients');
      return { added: [], updated: [], removed: [], invalid: [], durationMs: performance.now() - startedAt };
    }

    const previous = files;
    const next = new Map<string, FileState>();
    const added: string[] = [];
    const updated: string[] = [];

    const checkFile = (name: string): void => {
      const file = join(dir, name);
      let info: { mtimeMs: number; size: number };
      try {
        info = statSync(file);
      } catch {
        return; // deleted between readdir and stat
      }
      const old = previous.get(name);
      const racy = old !== undefined && old.readAt - old.mtimeMs < racyWindowMs;
      if (old !== undefined && old.mtimeMs === info.mtimeMs && old.size === info.size && !racy) {
        next.set(name, old);
        return;
      }
      const readAt = Date.now();
      let bytes: Buffer | undefined;
      try {
        bytes = readFileSync(file);
      } catch {
        bytes = undefined; // the loader turns the read error into an invalid record
      }
      const bytesHash = bytes ? createHash('sha256').update(bytes).digest('base64') : '';
      if (bytes && old !== undefined && old.bytesHash === bytesHash) {
        next.set(name, { mtimeMs: info.mtimeMs, size: info.size, readAt, bytesHash, record: old.record });
        return;
      }
      const result = bytes ? parseClientSource(file, bytes, loaderContext) : loadClientFileSync(file, loaderContext);
      if (old !== undefined && old.record.configHash === result.configHash) {
        next.set(name, { mtimeMs: info.mtimeMs, size: info.size, readAt, bytesHash, record: old.record });
        return;
      }
      report(result);
      next.set(name, { mtimeMs: info.mtimeMs, size: info.size, readAt, bytesHash, record: toRecord(result) });
      (old === undefined ? added : updated).push(result.id);
    };
    await mapYielding(names, checkFile, origin === 'poll' ? BACKGROUND_PACE : undefined);

    const removed = [...previous.keys()].filter((name) => !next.has(name)).map((name) => previous.get(name)?.record.id ?? name);
    if (origin === 'poll' && added.length + updated.length + removed.length === 0) {
      // Nothing changed (the usual poll, whose summary nobody reads): keep the maps, so a poll over
      // thousands of clients allocates as little as it can.
      files = next;
      return { added: [], updated: [], removed: [], invalid: [], durationMs: performance.now() - startedAt };
    }
    const nextById = new Map<string, ClientRecord>();
    // Keys are copied in one tight loop so they sit together in memory: with thousands of clients,
    // keys scattered among the configs they came from make each get() a cache miss (bench:config).
    for (const state of next.values()) nextById.set(compactKey(state.record.id), state.record);
    for (const id of external.keys()) {
      if (nextById.has(id) && !byId.has(id)) {
        logger.warn({ client_id: id }, 'a client file now defines this id; the database-backed client is shadowed');
      }
    }

    files = next;
    byId = nextById;

    const change = { added: added.sort(), updated: updated.sort(), removed: removed.sort() };
    const invalid = [...nextById.values()].filter((record) => record.status === 'invalid').map((record) => record.id);
    if (origin !== 'start' && change.added.length + change.updated.length + change.removed.length > 0) {
      logger.info({ ...change, invalid: invalid.length, origin }, 'client configs reloaded');
      emit(change);
      if ((origin === 'local' || origin === 'poll') && opts.signal !== undefined) {
        opts.signal.publish().catch((error: unknown) => logger.warn({ err: error }, 'cannot announce client reload'));
      }
    }
    return { ...change, invalid, durationMs: performance.now() - startedAt };
  }

  function emit(change: ClientChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'client change listener failed');
      }
    }
  }

  function enqueueReload(origin: ReloadOrigin): Promise<ReloadSummary> {
    const run = reloadChain.then(async () => {
      reloading = true;
      try {
        return await scan(origin);
      } finally {
        reloading = false;
      }
    });
    reloadChain = run.catch(() => undefined);
    return run;
  }

  function backgroundReload(origin: 'local' | 'signal'): void {
    if (closed) return;
    enqueueReload(origin).catch((error: unknown) => logger.error({ err: error }, 'client reload failed'));
  }

  function startWatching(): void {
    if (opts.watch !== false) startFsWatch();
    if (pollIntervalMs > 0) schedulePoll(pollIntervalMs);
  }

  /**
   * The next re-scan waits `pollIntervalMs`, or longer when scans are slow: a scan stats every file
   * on the main thread, and with 10,000 clients scanning every 500 ms took enough of the CPU to
   * slow the webhooks (bench:webhooks). Waiting 20 times the last (paced) scan's duration keeps
   * scanning near 1% of a core; 10,000 files rescan about every 12 s. fs.watch reloads promptly in
   * between where the filesystem supports it.
   */
  function schedulePoll(delayMs: number): void {
    pollTimer = setTimeout(() => {
      if (closed) return;
      const started = performance.now();
      const next = () => schedulePoll(Math.max(pollIntervalMs, POLL_BUDGET_FACTOR * (performance.now() - started)));
      if (reloading) {
        next();
        return;
      }
      enqueueReload('poll').then(next, (error: unknown) => {
        logger.error({ err: error }, 'client reload failed');
        next();
      });
    }, delayMs);
    pollTimer.unref();
  }

  function startFsWatch(): void {
    try {
      watcher = watch(dir, { persistent: false }, () => {
        if (debounceTimer !== undefined) clearTimeout(debounceTimer);
        debounceTimer = setTimeout(() => backgroundReload('local'), watchDebounceMs);
        debounceTimer.unref();
      });
      watcher.on('error', (error) => {
        logger.warn({ err: error, dir }, 'fs.watch failed; relying on polling');
        watcher?.close();
        watcher = undefined;
      });
    } catch (error) {
      logger.warn({ err: error, dir }, 'fs.watch unavailable; relying on polling');
    }
  }

  return {
    async start() {
      const summary = await enqueueReload('start');
      logger.info({ dir, clients: byId.size, invalid: summary.invalid.length, ms: Math.round(summary.durationMs) }, 'client configs loaded');
      if (opts.strict) {
        const problems = [...byId.values()].flatMap((record) => record.issues.map((issue) => `${issue.file}: ${issue.path}: ${issue.message}`));
        if (problems.length > 0) {
          throw new Error(`CONFIG_STRICT: ${problems.length} client config issue(s):\n${problems.join('\n')}`);
        }
      }
      startWatching();
      if (opts.signal !== undefined) {
        unsubscribe = await opts.signal.subscribe(() => backgroundReload('signal'));
      }
    },

    get(id) {
      return byId.get(id) ?? external.get(id);
    },

    list() {
      const records = [...byId.values()];
      for (const [id, record] of external) if (!byId.has(id)) records.push(record);
      return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    countsByStatus() {
      const counts: Record<ClientLoadStatus, number> = { active: 0, disabled: 0, invalid: 0 };
      for (const record of byId.values()) counts[record.status] += 1;
      for (const [id, record] of external) if (!byId.has(id)) counts[record.status] += 1;
      return counts;
    },

    reload() {
      return enqueueReload('local');
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    upsertExternal(record) {
      const fileRecord = byId.get(record.id);
      if (fileRecord !== undefined) {
        const issues = [
          {
            file: fileRecord.file ?? record.id,
            path: '$.client_id',
            message: `client "${record.id}" is already defined by a config file; the database-backed definition is rejected`,
          },
        ];
        logger.error({ client_id: record.id, issues: issues.map((issue) => issue.message) }, 'external client rejected');
        return { accepted: false, issues };
      }
      const existed = external.has(record.id);
      const nextExternal = new Map(external);
      nextExternal.set(record.id, Object.freeze({ ...record, source: 'db' as const }));
      external = nextExternal;
      emit({ added: existed ? [] : [record.id], updated: existed ? [record.id] : [], removed: [] });
      return { accepted: true };
    },

    removeExternal(id) {
      if (!external.has(id)) return false;
      const nextExternal = new Map(external);
      nextExternal.delete(id);
      external = nextExternal;
      if (!byId.has(id)) emit({ added: [], updated: [], removed: [id] });
      return true;
    },

    async close() {
      closed = true;
      if (debounceTimer !== undefined) clearTimeout(debounceTimer);
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      watcher?.close();
      watcher = undefined;
      listeners.clear();
      if (unsubscribe !== undefined) await unsubscribe();
      await reloadChain;
    },
  };
}

/** A fresh flat copy of `id` (not a slice of a longer string, not shared with a config object). */
function compactKey(id: string): string {
  return id.split('').join('');
}
