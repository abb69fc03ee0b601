/**
 * Runs once per test run. Migrates one embedded (PGlite) database in a data folder and keeps it as
 * the run's template: server processes whose test is not about a first start get a copy of the
 * folder (migratedDataDir), and in embedded mode each in-memory test database loads a dump of it
 * (~0.3 s) instead of being created and migrated (~3 s). PostgreSQL mode (DATABASE_URL set): also
 * migrates the run's database once; with more than one worker, each worker gets a copy of it
 * (CREATE DATABASE … TEMPLATE, dropped at the end), so that files running side by side never share
 * a database or its pg-boss schema, where one file's workers would take the other's jobs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/platform/db/database.ts';
import { TMP_DIR } from './paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Embedded mode: the template dumped (PGlite's loadDataDir format). */
    templateFile: string;
    /** A migrated embedded data folder in DATA_DIR's layout (its database in `pglite/`). */
    templateDataDir: string;
    /** PostgreSQL mode with several workers: each worker's database URL, by VITEST_POOL_ID. */
    workerDatabaseUrls: Record<string, string>;
  }
}

async function migrateTemplateFolder(dataDir: string, dumpTo: string | undefined): Promise<void> {
  const database = await openDatabase({ dataDir, role: 'server' });
  try {
    await database.migrate();
    if (dumpTo && database.pglite) {
      const dump = await database.pglite.dumpDataDir('none');
      writeFileSync(dumpTo, Buffer.from(await dump.arrayBuffer()));
    }
  } finally {
    await database.close();
  }
}

async function migrateServerDatabase(url: string): Promise<void> {
  const database = await openDatabase({ url, dataDir: TMP_DIR });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
}

/** Runs `text` on the server's maintenance database (postgres). */
async function onServer(url: string, text: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Vitest's worker count as its pool resolves it (the option, else cores - 1). */
function workerCount(project: TestProject): number {
  return project.config.maxWorkers || project.vitest.config.maxWorkers || Math.max(availableParallelism() - 1, 1);
}

/** A copy of the migrated database `url` per worker (none for a single worker: it uses `url`). */
async function workerDatabases(url: string, workers: number): Promise<{ urls: Record<string, string>; drop: () => Promise<void> }> {
  if (workers <= 1) return { urls: {}, drop: async () => undefined };
  const base = new URL(url);
  const name = decodeURIComponent(base.pathname.slice(1));
  const names = Array.from({ length: workers }, (_, i) => `${name.slice(0, 55)}_w${i + 1}`);
  const urls: Record<string, string> = {};
  // One at a time: CREATE DATABASE … TEMPLATE wants the template to itself.
  for (const [i, worker] of names.entries()) {
    await onServer(url, `drop database if exists "${worker}" with (force)`);
    await onServer(url, `create database "${worker}" template "${name}"`);
    const workerUrl = new URL(base);
    workerUrl.pathname = `/${encodeURIComponent(worker)}`;
    urls[String(i + 1)] = workerUrl.toString();
  }
  return {
    urls,
    drop: async () => {
      for (const worker of names) await onServer(url, `drop database if exists "${worker}" with (force)`).catch(() => undefined);
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(TMP_DIR, { recursive: true });
  const templateFile = join(TMP_DIR, `pglite-template-${process.pid}.tar`);
  const templateDataDir = join(TMP_DIR, `pglite-template-${process.pid}`);
  rmSync(templateDataDir, { recursive: true, force: true });
  const url = process.env.DATABASE_URL || undefined;
  await Promise.all([migrateTemplateFolder(templateDataDir, url ? undefined : templateFile), ...(url ? [migrateServerDatabase(url)] : [])]);
  const perWorker = url ? await workerDatabases(url, workerCount(project)) : { urls: {}, drop: async () => undefined };
  project.provide('templateFile', templateFile);
  project.provide('templateDataDir', templateDataDir);
  project.provide('workerDatabaseUrls', perWorker.urls);
  return async () => {
    rmSync(templateFile, { force: true });
    rmSync(templateDataDir, { recursive: true, force: true });
    await perWorker.drop();
  };
}
