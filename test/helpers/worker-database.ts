/**
 * Runs in each worker before its test files (vitest setupFiles): in PostgreSQL mode with several
 * workers, points DATABASE_URL at this worker's own copy of the run's database (global-setup.ts),
 * before any test file reads it. With one worker, or embedded, nothing changes.
 */
import { inject } from 'vitest';

const workerUrl = process.env.DATABASE_URL ? inject('workerDatabaseUrls')[process.env.VITEST_POOL_ID ?? ''] : undefined;
if (workerUrl) process.env.DATABASE_URL = workerUrl;
