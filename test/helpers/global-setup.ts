/**
 * Runs once per test run. Migrates one embedded (PGlite) database in a data folder and keeps it as
 * the run's template: server processes whose test is not about a first start get a copy of the
 * folder (migratedDataDir), and in embedded mode each in-memory test database loads a dump of it
 * (~0.3 s) instead of being created and migrated (~3 s). PostgreSQL mode (DATABASE_URL set): also
 * migrates the run's database once.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/platform/db/database.ts';
import { TMP_DIR } from './paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Embedded mode: the template dumped (PGlite's loadDataDir format). */
    templateFile: string;
    /** A migrated embedded data folder in DATA_DIR's layout (its database in `pglite/`). */
    templateDataDir: string;
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

export default async function setup(project: TestProject): Promise<() => void> {
  mkdirSync(TMP_DIR, { recursive: true });
  const templateFile = join(TMP_DIR, `pglite-template-${process.pid}.tar`);
  const templateDataDir = join(TMP_DIR, `pglite-template-${process.pid}`);
  rmSync(templateDataDir, { recursive: true, force: true });
  const url = process.env.DATABASE_URL || undefined;
  await Promise.all([migrateTemplateFolder(templateDataDir, url ? undefined : templateFile), ...(url ? [migrateServerDatabase(url)] : [])]);
  project.provide('templateFile', templateFile);
  project.provide('templateDataDir', templateDataDir);
  return () => {
    rmSync(templateFile, { force: true });
    rmSync(templateDataDir, { recursive: true, force: true });
  };
}
