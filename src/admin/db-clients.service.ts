/**
 * Loads database-backed clients into the registry: all of them at startup, whenever another
 * instance announces a change (Redis signal) and whenever the table's fingerprint moves (a poll,
 * every `pollIntervalMs`: a change made by another process that could not announce it, such as
 * `xlnc onboard --store db` against a server holding the embedded database, or any instance
 * without Redis), one of them after a local change. Their configs go through the same parser and
 * secret resolution as client files.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { ClientRecord } from '../clients/client.schema.ts';
import { parseClientSource } from '../clients/client-loader.ts';
import type { ClientRegistry } from '../clients/client-registry.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import type { Signal } from '../platform/redis.ts';
import { clientConfigsFingerprint, findClientConfig, listClientConfigs, type ClientConfigRow } from './db-clients.repo.ts';

export interface DbClientStore {
  /** Loads every database-backed client and starts listening for other instances' changes. */
  start(): Promise<void>;
  /** Re-reads every database-backed client (what a signal from another instance triggers). */
  loadAll(): Promise<void>;
  /** After a committed local change: reload `id` here and tell every other instance. */
  changed(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface DbClientStoreOptions {
  tenancy: Tenancy;
  registry: ClientRegistry;
  encryptionKeys: readonly Buffer[];
  logger: Logger;
  /** Receives every resolved secret, for log scrubbing. */
  onSecret: (value: string) => void;
  /** Cross-instance "database clients changed" (Redis); absent with one instance. */
  signal?: Signal;
  /** How often the table's fingerprint is compared (default 2000 ms; 0 disables). */
  pollIntervalMs?: number;
}

const silent = pino({ level: 'silent' });

/** Parses a stored row exactly like a client file (sealed secrets are opened with `encryptionKeys`). */
export function recordFromRow(row: ClientConfigRow, encryptionKeys: readonly Buffer[]): { record: ClientRecord; secrets: string[] } {
  const bytes = Buffer.from(JSON.stringify(row.config));
  // Stored configs hold only sealed secrets, so no environment is offered: `env:` cannot resolve.
  const result = parseClientSource(`${row.id}.json`, bytes, { env: {}, encryptionKeys, logger: silent });
  const record: ClientRecord = Object.freeze({
    id: row.id,
    source: 'db' as const,
    status: result.status,
    config: result.config,
    issues: Object.freeze(result.issues.map((issue) => Object.freeze({ ...issue, file: `db:${row.id}` }))),
    configHash: result.configHash,
    loadedAt: new Date(),
  });
  return { record, secrets: result.secretValues };
}

export function createDbClientStore(options: DbClientStoreOptions): DbClientStore {
  const { tenancy, registry, logger } = options;
  let unsubscribe: (() => Promise<void>) | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  let pollTimer: NodeJS.Timeout | undefined;
  /** The fingerprint of the rows last loaded here: a poll that sees another one reloads. */
  let seen: string | undefined;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;

  const apply = (row: ClientConfigRow, origin: string) => {
    const { record, secrets } = recordFromRow(row, options.encryptionKeys);
    for (const secret of secrets) options.onSecret(secret);
    const current = registry.get(row.id);
    if (current?.source === 'file') {
      if (origin === 'start') logger.warn({ client_id: row.id }, 'a client file defines this id; the database-backed client is not served');
      return;
    }
    if (current?.configHash === record.configHash && current.status === record.status) return;
    if (record.status === 'invalid') {
      logger.error({ client_id: row.id, issues: record.issues.map((i) => `${i.path}: ${i.message}`) }, 'database client config invalid');
    }
    registry.upsertExternal(record);
  };

  const loadAll = async (origin: string) => {
    const [rows, fingerprint] = await tenancy.withPlatform(async (tx) => [await listClientConfigs(tx), await clientConfigsFingerprint(tx)] as const);
    seen = fingerprint;
    for (const row of rows) apply(row, origin);
    const stored = new Set(rows.map((row) => row.id));
    for (const record of registry.list()) if (record.source === 'db' && !stored.has(record.id)) registry.removeExternal(record.id);
  };

  // One load at a time, in order: a slow full reload never overwrites a newer single-client one.
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  };

  const poll = async () => {
    const fingerprint = await tenancy.withPlatform((tx) => clientConfigsFingerprint(tx));
    if (fingerprint !== seen && !closed) await serial(() => loadAll('poll'));
  };
  let pollFailing = false;
  const schedulePoll = () => {
    pollTimer = setTimeout(() => {
      poll()
        .then(() => {
          pollFailing = false;
        })
        .catch((error: unknown) => {
          // Once per outage (the database being down is reported elsewhere too), and never after close.
          if (!closed && !pollFailing) logger.warn({ err: error }, 'database client poll failed; retrying');
          pollFailing = true;
        })
        .finally(() => {
          if (!closed) schedulePoll();
        });
    }, pollIntervalMs);
    pollTimer.unref();
  };

  return {
    async start() {
      await serial(() => loadAll('start'));
      if (pollIntervalMs > 0) schedulePoll();
      if (options.signal !== undefined) {
        unsubscribe = await options.signal.subscribe(() => {
          if (closed) return;
          serial(() => loadAll('signal')).catch((error: unknown) => logger.error({ err: error }, 'database client reload failed'));
        });
      }
    },
    loadAll: () => serial(() => loadAll('local')),
    async changed(id) {
      await serial(async () => {
        const row = await tenancy.withPlatform((tx) => findClientConfig(tx, id));
        if (row === undefined) registry.removeExternal(id);
        else apply(row, 'local');
      });
      await options.signal?.publish().catch((error: unknown) => logger.warn({ err: error }, 'cannot announce database client change'));
    },
    async close() {
      closed = true;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      pollTimer = undefined;
      if (unsubscribe !== undefined) await unsubscribe();
      await chain;
    },
  };
}
