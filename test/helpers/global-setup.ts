/**
 * Runs once per test run. Embedded mode: migrate one PGlite database and dump it, so each test
 * copies the template (~0.3 s) instead of creating and migrating a database (~3 s). PostgreSQL
 * mode (DATABASE_URL set): migrate the run's database once.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/platform/db/database.ts';
import { TMP_DIR } from './paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateFile: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  mkdirSync(TMP_DIR, { recursive: true });
  const templateFile = join(TMP_DIR, `pglite-template-${process.pid}.tar`);
  const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: TMP_DIR, inMemory: true });
  try {
    await database.migrate();
    if (database.pglite) {
      const dump = await database.pglite.dumpDataDir('none');
      writeFileSync(templateFile, Buffer.from(await dump.arrayBuffer()));
    }
  } finally {
    await database.close();
  }
  project.provide('templateFile', templateFile);
  return () => rmSync(templateFile, { force: true });
}
