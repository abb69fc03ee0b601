/**
 * The client files of CLIENTS_DIR as records: scans the folder (stat first, then read, hash and
 * validate only what changed), reports each changed file once (its secrets to the log scrubber,
 * warnings, the legacy-format hint, why it is invalid) and watches the folder. It knows nothing of
 * database-backed clients, listeners or other instances: the registry (client-registry.ts) does.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ClientFileResult } from './client-loader.ts';
import { listClientFileNames, loadClientFileSync, mapYielding, parseClientSource, type Pace } from './client-loader.ts';
import type { ClientRecord } from './client.schema.ts';

export interface ClientFileSourceOptions {
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  encryptionKeys: Buffer[];
  logger: Logger;
  /** Receives every resolved secret once, for log redaction. */
  onSecret?: (value: string) => void;
}

/** One scan's result. `records` is the file-backed clients by id (a new map only when something changed). */
export interface FileScan {
  changed: boolean;
  records: ReadonlyMap<string, ClientRecord>;
  added: string[];
  updated: string[];
  removed: string[];
  durationMs: number;
}

export interface ClientFileSource {
  /** `pace`: how a background re-scan shares the main thread (default: flat out). */
  scan(options?: { pace?: Pace }): Promise<FileScan>;
  /** Calls `onChange` (debounced) when the folder changes, where fs.watch works; polling covers the rest. */
  watch(onChange: () => void): void;
  close(): void;
}

/**
 * `readAt` is the wall-clock time the bytes behind `record` were read; `bytesHash` their hash, so
 * re-reading unchanged bytes (a racy mtime) costs a read, not a parse and validation.
 */
type FileState = { mtimeMs: number; size: number; readAt: number; bytesHash: string; record: ClientRecord };

const watchDebounceMs = 100;
// A file read within this long of its mtime may have been rewritten in the same mtime tick with
// the same size (coarse timestamps on some filesystems), so it is re-read and compared by hash
// until it is older than this ("racy" entries, as git calls them).
const racyWindowMs = 1_000;

export function createClientFileSource(opts: ClientFileSourceOptions): ClientFileSource {
  const { dir, logger } = opts;
  // The loader's own warnings are silenced here and re-logged by report(), which runs only for
  // files that really changed (a racy re-read of unchanged bytes must not repeat them).
  const loaderContext = { env: opts.env, encryptionKeys: opts.encryptionKeys, logger: logger.child({}, { level: 'silent' }) };
  // Replaced, never mutated, so a reader holding one keeps a consistent view.
  let files = new Map<string, FileState>(); // by file name
  let records: ReadonlyMap<string, ClientRecord> = new Map();
  const knownSecrets = new Set<string>();
  const hintedLegacy = new Set<string>();
  let watcher: FSWatcher | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;

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

  async function scan({ pace }: { pace?: Pace } = {}): Promise<FileScan> {
    const startedAt = performance.now();
    let names: string[];
    try {
      names = await listClientFileNames(dir);
    } catch (error) {
      // A vanished or unreadable directory is treated as "no change" rather than "delete all":
      // a transient mount problem must not take every client offline.
      logger.error({ dir, err: error }, 'cannot read clients directory; keeping the loaded clients');
      return { changed: false, records, added: [], updated: [], removed: [], durationMs: performance.now() - startedAt };
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
    await mapYielding(names, checkFile, pace);

    const removed = [...previous.keys()].filter((name) => !next.has(name)).map((name) => previous.get(name)?.record.id ?? name);
    files = next;
    if (added.length + updated.length + removed.length === 0) {
      // Nothing changed (the usual poll, whose summary nobody reads): keep the records map, so a
      // poll over thousands of clients allocates as little as it can.
      return { changed: false, records, added: [], updated: [], removed: [], durationMs: performance.now() - startedAt };
    }
    const nextRecords = new Map<string, ClientRecord>();
    // Keys are copied in one tight loop so they sit together in memory: with thousands of clients,
    // keys scattered among the configs they came from make each get() a cache miss (bench:config).
    for (const state of next.values()) nextRecords.set(compactKey(state.record.id), state.record);
    records = nextRecords;
    return { changed: true, records, added: added.sort(), updated: updated.sort(), removed: removed.sort(), durationMs: performance.now() - startedAt };
  }

  function watchDir(onChange: () => void): void {
    try {
      watcher = watch(dir, { persistent: false }, () => {
        if (debounceTimer !== undefined) clearTimeout(debounceTimer);
        debounceTimer = setTimeout(onChange, watchDebounceMs);
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
    scan,
    watch: watchDir,
    close() {
      if (debounceTimer !== undefined) clearTimeout(debounceTimer);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** A fresh flat copy of `id` (not a slice of a longer string, not shared with a config object). */
function compactKey(id: string): string {
  return id.split('').join('');
}
