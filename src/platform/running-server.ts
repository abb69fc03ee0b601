/**
 * A server describes itself in DATA_DIR (`server.json`, written once it listens, removed when it
 * stops): its pid, the URL it answers at on this machine, and its public base. Commands on the
 * same machine (`xlnc simulate-call`, `xlnc clients tools`) find it there, whatever PORT or
 * PUBLIC_BASE_URL their own shell has. A record whose process is gone is ignored.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './processes.ts';

export const SERVER_RECORD_FILE = 'server.json';

export interface ServerRecord {
  pid: number;
  /** Where the server answers on this machine, e.g. http://127.0.0.1:3000. */
  localUrl: string;
  publicBaseUrl: string;
  publicBaseUrlConfigured: boolean;
  since: string;
}

/** The URL a client on this machine uses for a server bound to `host`:`port`. */
export function localUrlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/** Writes the record; returns a function that removes it (only if it is still ours). */
export function recordRunningServer(dataDir: string, record: Omit<ServerRecord, 'pid' | 'since'>): () => void {
  const file = join(dataDir, SERVER_RECORD_FILE);
  const full: ServerRecord = { pid: process.pid, since: new Date().toISOString(), ...record };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return () => {
    if (readRunningServer(dataDir)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The live server described in DATA_DIR, if any. */
export function readRunningServer(dataDir: string): ServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dataDir, SERVER_RECORD_FILE), 'utf8')) as Partial<ServerRecord>;
    if (typeof record.pid !== 'number' || typeof record.localUrl !== 'string' || typeof record.publicBaseUrl !== 'string') return undefined;
    if (!isProcessAlive(record.pid)) return undefined;
    return { pid: record.pid, localUrl: record.localUrl, publicBaseUrl: record.publicBaseUrl, publicBaseUrlConfigured: record.publicBaseUrlConfigured === true, since: record.since ?? '' };
  } catch {
    return undefined;
  }
}
