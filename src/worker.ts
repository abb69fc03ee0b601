/**
 * A worker-only process (`xlnc worker` / `npm run worker`): runs jobs, serves no HTTP, so API and
 * workers scale apart. Set WORKERS_IN_PROCESS=false on API instances when running these.
 */
import { startAlertSchedule } from './alerts/alerts-schedule.ts';
import { startWorkers } from './core/dispatch.ts';
import { JOB_CATALOGUE } from './core/router.ts';
import { createDeps } from './deps.ts';
import { ConfigError, loadPlatformConfig } from './platform/config.ts';

export async function runWorker(): Promise<void> {
  const config = loadPlatformConfig();
  const deps = await createDeps(config, { catalogue: JOB_CATALOGUE });
  await startWorkers(deps, JOB_CATALOGUE);
  startAlertSchedule(deps);
  deps.logger.info({ database: deps.database.kind }, 'worker started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, 'worker stopping');
    const deadline = setTimeout(() => process.exit(1), config.shutdownTimeoutMs);
    deadline.unref();
    deps
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runWorker().catch((error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
