/**
 * Builds the real app on a test database with a temp clients folder and captured logs.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { JobCatalogue } from '../../src/core/dispatch.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { createDeps, type Deps, type DepsOptions } from '../../src/deps.ts';
import type { OutboundHttpOptions } from '../../src/platform/outbound-http.ts';
import { loadPlatformConfig } from '../../src/platform/config.ts';
import { TMP_DIR } from './paths.ts';
import { openTestDatabase, TEST_REDIS_URL } from './test-db.ts';

export const TEST_ENCRYPTION_KEY = '7f'.repeat(32);

export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export function tempDir(prefix = 'xlnc-'): string {
  mkdirSync(TMP_DIR, { recursive: true });
  return mkdtempSync(join(TMP_DIR, prefix));
}

/**
 * A DATA_DIR whose embedded database is already migrated (a copy of the run's template folder), for
 * server processes whose test is not about a first start: a fresh folder costs each server start
 * several CPU-seconds of initdb and migrations. The first start stays covered where it is the point
 * (server-process, cli-with-server, the accounts browser test, the README tour, the production image).
 * With DATABASE_URL in the server's environment the folder's database goes unused.
 */
export function migratedDataDir(prefix = 'data-'): string {
  const dir = tempDir(prefix);
  cpSync(join(inject('templateDataDir'), 'pglite'), join(dir, 'pglite'), { recursive: true });
  return dir;
}

export function writeClientFile(dir: string, config: { client_id: string } & Record<string, unknown>): string {
  const file = join(dir, `${config.client_id}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** A valid canonical test client with literal secrets (allowed because environment is "test"). */
export function testClientConfig(clientId: string, overrides: Record<string, unknown> = {}) {
  return {
    client_id: clientId,
    name: `Test Client ${clientId}`,
    status: 'active',
    environment: 'test',
    industry: 'tax_preparation',
    timezone: 'America/New_York',
    business_hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] },
    retell: {
      api_key: `key_test_${clientId.replaceAll('-', '_')}_secret`,
      agent_ids: [`agent_${clientId.replaceAll('-', '')}`],
      phone_numbers: ['+14155550123'],
    },
    calendar: { provider: 'internal' },
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  clientsDir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    clientsDir?: string;
    env?: Record<string, string>;
    pollIntervalMs?: number;
    watchClients?: boolean;
    /** pg-boss schema of its own: with a shared PostgreSQL, no other test app's workers fetch these jobs. */
    queueSchema?: string;
    /** The jobs and subscribers to register (default: the platform's, JOB_CATALOGUE). */
    catalogue?: JobCatalogue;
    /** Alert test seams: the clock, the local fake Slack receiver's address, flap damping. */
    alerts?: Pick<DepsOptions, 'alertClock' | 'alertAddressAllowed' | 'alertCa' | 'alertClearForMs'>;
    /** Outbound HTTP test seams (a loopback webhook receiver). */
    outbound?: OutboundHttpOptions;
    /** Span processors (an in-memory exporter): turns tracing on for this app. */
    spanProcessors?: DepsOptions['spanProcessors'];
  } = {},
): Promise<TestApp> {
  const clientsDir = options.clientsDir ?? tempDir('clients-');
  const dataDir = tempDir('data-');
  const config = loadPlatformConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    CLIENTS_DIR: clientsDir,
    PUBLIC_BASE_URL: 'http://localhost:3000',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef-0123456789',
    JWT_REFRESH_SECRET: 'test-refresh-secret-0123456789abcdef-012345',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
    ...options.env,
  });
  const logs: string[] = [];
  const database = await openTestDatabase();
  const deps = await createDeps(config, {
    catalogue: options.catalogue ?? JOB_CATALOGUE,
    database,
    skipMigrations: true,
    defaultMetrics: false,
    pollIntervalMs: options.pollIntervalMs ?? 200,
    ...(options.watchClients !== undefined ? { watchClients: options.watchClients } : {}),
    ...(options.queueSchema !== undefined ? { queueSchema: options.queueSchema } : {}),
    ...(options.outbound !== undefined ? { outbound: options.outbound } : {}),
    ...(options.spanProcessors !== undefined ? { spanProcessors: options.spanProcessors } : {}),
    logDestination: { write: (line: string) => void logs.push(line) },
    ...options.alerts,
  });
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    clientsDir,
    logs,
    async close() {
      await app.close();
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
