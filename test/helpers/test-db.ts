/**
 * A database for one test file: a fresh in-memory copy of the migrated template in embedded mode,
 * or the run's PostgreSQL database when DATABASE_URL is set (tests use their own client ids, so
 * they never see each other's rows).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.ts';
import { TMP_DIR } from './paths.ts';

export const TEST_DATABASE_URL = process.env.DATABASE_URL || undefined;
export const TEST_REDIS_URL = process.env.REDIS_URL || undefined;

export async function openTestDatabase(): Promise<Database> {
  if (TEST_DATABASE_URL) return openDatabase({ url: TEST_DATABASE_URL, dataDir: TMP_DIR, poolSize: 5 });
  const template = new Blob([readFileSync(inject('templateFile'))]);
  return openDatabase({ dataDir: TMP_DIR, inMemory: true, loadDataDir: template });
}

/** Drops a schema a test made for itself on the shared PostgreSQL (embedded databases go away on their own). */
export async function dropSchema(schema: string): Promise<void> {
  if (!TEST_DATABASE_URL) return;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
