/**
 * The client registry: every client the platform serves, by id, in O(1) without I/O. File-backed
 * clients come from the file source (client-file-source.ts), re-scanned on fs.watch events, on a
 * paced timer and on another instance's signal; database-backed clients are put in by the admin
 * store (upsertExternal). Listeners hear every change; a file wins over a database row of the same id.
 *
 * A custom host (branding.custom_host) belongs to one client: the client that held it first keeps
 * it (at start, the file whose id sorts first; then whoever had it), and a second client naming it
 * is refused, invalid with a config issue naming both, until one of them lets it go.
 */
import type { Logger } from 'pino';
import type { Pace } from './client-loader.ts';
import type { ClientLoadStatus, ClientRecord, ConfigIssue } from './client.schema.ts';
import { createClientFileSource } from './client-file-source.ts';

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
  /** The client whose branding.custom_host is `host` (lowercase, no port), if any. */
  byCustomHost(host: string): ClientRecord | undefined;
  removeExternal(id: string): boolean;
  close(): Promise<void>;
};

/** 'start' is the initial load: it is not a change, so it is neither emitted nor announced. */
/** local: a change seen here (fs.watch, reload()); poll: the timer's re-scan; signal: another instance's. */
type ReloadOrigin = 'start' | 'local' | 'poll' | 'signal';

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
  const files = createClientFileSource({ dir, env: opts.env, encryptionKeys: opts.encryptionKeys, logger, ...(opts.onSecret ? { onSecret: opts.onSecret } : {}) });

  // Both maps are replaced, never mutated, so a reader holding one (or a record from one) keeps a
  // consistent view while a reload builds the next.
  let byId: ReadonlyMap<string, ClientRecord> = new Map(); // file-backed clients, host claims settled
  let scanned: ReadonlyMap<string, ClientRecord> = new Map(); // file-backed clients as the file source read them
  let external = new Map<string, ClientRecord>(); // database-backed clients
  let hostOwners: ReadonlyMap<string, string> = new Map(); // custom host -> client id

  const hostOf = (record: ClientRecord): string | undefined => record.config?.branding?.custom_host;

  const refusedForHost = (record: ClientRecord, host: string, holder: string): ClientRecord =>
    Object.freeze({
      ...record,
      status: 'invalid' as const,
      config: null,
      issues: Object.freeze([
        ...record.issues,
        Object.freeze({
          file: record.file ?? `db:${record.id}`,
          path: '$.branding.custom_host',
          message: `custom host ${host} is already used by client "${holder}"; clients "${holder}" and "${record.id}" cannot share it`,
        }),
      ]),
    });

  /** The file records with every host claim settled: an incumbent keeps its host, then ids in order. */
  function settleFileHosts(files: ReadonlyMap<string, ClientRecord>): ReadonlyMap<string, ClientRecord> {
    const owners = new Map<string, string>();
    for (const [id, record] of external) {
      const host = hostOf(record);
      if (host !== undefined && !files.has(id)) owners.set(host, id);
    }
    const claimants = [...files.values()]
      .filter((record) => hostOf(record) !== undefined)
      .sort((a, b) => {
        const incumbentA = hostOwners.get(hostOf(a) ?? '') === a.id ? 0 : 1;
        const incumbentB = hostOwners.get(hostOf(b) ?? '') === b.id ? 0 : 1;
        return incumbentA - incumbentB || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      });
    if (claimants.length === 0) return files;
    const settled = new Map(files);
    for (const record of claimants) {
      const host = hostOf(record) ?? '';
      const holder = owners.get(host);
      if (holder === undefined) owners.set(host, record.id);
      else settled.set(record.id, refusedForHost(record, host, holder));
    }
    return settled;
  }

  function indexHosts(): void {
    const owners = new Map<string, string>();
    for (const record of byId.values()) {
      const host = hostOf(record);
      if (host !== undefined) owners.set(host, record.id);
    }
    for (const [id, record] of external) {
      const host = hostOf(record);
      if (host !== undefined && !byId.has(id) && !owners.has(host)) owners.set(host, id);
    }
    hostOwners = owners;
  }

  /** Settles host claims again after a database client changed; the file clients whose standing changed. */
  function resettleFiles(): string[] {
    const before = byId;
    byId = settleFileHosts(scanned);
    indexHosts();
    return [...byId.values()].filter((record) => before.get(record.id)?.status !== record.status).map((record) => record.id);
  }

  const listeners = new Set<(change: ClientChange) => void>();
  let reloadChain: Promise<unknown> = Promise.resolve();
  let reloading = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  async function scan(origin: ReloadOrigin): Promise<ReloadSummary> {
    const result = await files.scan(origin === 'poll' ? { pace: BACKGROUND_PACE } : {});
    // Nothing changed (the usual poll, whose summary nobody reads): nothing to build.
    if (origin === 'poll' && !result.changed) return { added: [], updated: [], removed: [], invalid: [], durationMs: result.durationMs };
    for (const id of external.keys()) {
      if (result.records.has(id) && !byId.has(id)) {
        logger.warn({ client_id: id }, 'a client file now defines this id; the database-backed client is shadowed');
      }
    }
    const before = byId;
    scanned = result.records;
    byId = settleFileHosts(scanned);
    indexHosts();

    const updated = new Set(result.updated);
    // A client refused (or no longer refused) for another's host changed too, though its file did not.
    for (const record of byId.values()) {
      const previous = before.get(record.id);
      if (previous !== undefined && (previous.status !== record.status || previous.issues.length !== record.issues.length)) updated.add(record.id);
    }
    const change = { added: result.added, updated: [...updated].sort(), removed: result.removed };
    const invalid = [...byId.values()].filter((record) => record.status === 'invalid').map((record) => record.id);
    if (origin !== 'start' && change.added.length + change.updated.length + change.removed.length > 0) {
      logger.info({ ...change, invalid: invalid.length, origin }, 'client configs reloaded');
      emit(change);
      if ((origin === 'local' || origin === 'poll') && opts.signal !== undefined) {
        opts.signal.publish().catch((error: unknown) => logger.warn({ err: error }, 'cannot announce client reload'));
      }
    }
    return { ...change, invalid, durationMs: result.durationMs };
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
    if (opts.watch !== false) files.watch(() => backgroundReload('local'));
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
      const host = hostOf(record);
      const holder = host === undefined ? undefined : hostOwners.get(host);
      const refused = host !== undefined && holder !== undefined && holder !== record.id ? refusedForHost(record, host, holder) : undefined;
      if (refused !== undefined) logger.error({ client_id: record.id, issues: refused.issues.map((issue) => issue.message) }, 'external client refused its custom host');
      const existed = external.has(record.id);
      const nextExternal = new Map(external);
      nextExternal.set(record.id, Object.freeze({ ...(refused ?? record), source: 'db' as const }));
      external = nextExternal;
      const files = resettleFiles();
      emit({ added: existed ? [] : [record.id], updated: [...(existed ? [record.id] : []), ...files], removed: [] });
      return refused === undefined ? { accepted: true } : { accepted: false, issues: [...refused.issues] };
    },

    removeExternal(id) {
      if (!external.has(id)) return false;
      const nextExternal = new Map(external);
      nextExternal.delete(id);
      external = nextExternal;
      const files = resettleFiles();
      if (!byId.has(id) || files.length > 0) emit({ added: [], updated: files, removed: byId.has(id) ? [] : [id] });
      return true;
    },

    byCustomHost(host) {
      const id = hostOwners.get(host);
      return id === undefined ? undefined : (byId.get(id) ?? external.get(id));
    },

    async close() {
      closed = true;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      files.close();
      listeners.clear();
      if (unsubscribe !== undefined) await unsubscribe();
      await reloadChain;
    },
  };
}
