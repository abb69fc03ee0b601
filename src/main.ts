/**
 * The server process: load config, build dependencies, listen, and shut down cleanly on SIGTERM
 * (stop accepting, finish in-flight requests, close the database) within SHUTDOWN_TIMEOUT_MS.
 */
import { buildApp } from './app.ts';
import { startAlertSchedule } from './alerts/alerts-schedule.ts';
import { startWorkers } from './core/dispatch.ts';
import { JOB_CATALOGUE } from './core/router.ts';
import { createDeps } from './deps.ts';
import { ConfigError, loadPlatformConfig } from './platform/config.ts';
import { publicBaseNotice, publicBaseOf } from './platform/public-urls.ts';
import { localUrlFor, recordRunningServer } from './platform/running-server.ts';

async function main(): Promise<void> {
  const config = loadPlatformConfig();
  const deps = await createDeps(config, { catalogue: JOB_CATALOGUE, superviseJobs: config.workersInProcess });
  const app = await buildApp(deps);
  await app.listen({ port: config.port, host: config.host });
  if (config.workersInProcess) {
    await startWorkers(deps, JOB_CATALOGUE);
    startAlertSchedule(deps);
  }
  const publicBase = publicBaseOf(config);
  const localUrl = localUrlFor(config.host, config.port);
  // Commands on this machine find this server here (simulate-call, clients tools).
  let forgetServer: () => void = () => undefined;
  try {
    forgetServer = recordRunningServer(config.dataDir, { localUrl, publicBaseUrl: publicBase.url, publicBaseUrlConfigured: publicBase.configured });
  } catch (error) {
    deps.logger.warn({ err: error }, `could not describe this server in ${config.dataDir}; xlnc commands need --base-url to find it`);
  }
  deps.logger.info(
    {
      port: config.port,
      database: deps.database.kind,
      redis: Boolean(deps.redis),
      workers: config.workersInProcess,
      clients: deps.registry.countsByStatus(),
      public_base_url: publicBase.url,
    },
    `XLNC Perception listening on ${localUrl}`,
  );
  const notice = publicBaseNotice(publicBase);
  if (notice) deps.logger.warn(notice);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      deps.logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    forgetServer();
    app
      .close()
      .then(() => deps.close())
      .then(() => {
        deps.logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        deps.logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
