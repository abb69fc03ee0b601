/**
 * `npm run api:types`: builds the app (no listening, an in-memory database), takes its OpenAPI
 * document, writes it to .tmp/openapi.json and the TypeScript types to web/src/lib/api-types.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { createDeps } from '../../src/deps.ts';
import { loadPlatformConfig } from '../../src/platform/config.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { API_TYPES_FILE, apiTypesFromDocument } from './api-types-source.ts';

const scratch = mkdtempSync(join(tmpdir(), 'xlnc-openapi-'));
try {
  const config = loadPlatformConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: scratch,
    CLIENTS_DIR: scratch,
    PUBLIC_BASE_URL: 'http://localhost:3000',
    JWT_SECRET: 'openapi-generation-only-0123456789abcdef',
    JWT_REFRESH_SECRET: 'openapi-generation-only-refresh-0123456789',
    ENCRYPTION_KEY: '00'.repeat(32),
  });
  const database = await openDatabase({ dataDir: scratch, inMemory: true });
  const deps = await createDeps(config, { catalogue: JOB_CATALOGUE, database, pollIntervalMs: 0, watchClients: false, defaultMetrics: false });
  const app = await buildApp(deps);
  await app.ready();
  const document = app.swagger();
  await app.close();
  await deps.close();

  const root = fileURLToPath(new URL('../../', import.meta.url));
  mkdirSync(join(root, '.tmp'), { recursive: true });
  writeFileSync(join(root, '.tmp', 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(API_TYPES_FILE, await apiTypesFromDocument(document));
  process.stdout.write(`wrote .tmp/openapi.json and ${fileURLToPath(API_TYPES_FILE).slice(root.length)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
