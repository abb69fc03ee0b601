/**
 * The server process: load config, build dependencies, listen, and shut down cleanly on SIGTERM
 * (stop accepting, finish in-flight requests, close the database) within SHUTDOWN_TIMEOUT_MS.
 */
import { buildApp } from './app.ts';
import { startWorkers } from './core/dispatch.ts';
import { createDeps } from './deps.ts';
import { ConfigError, loadPlatformConfig } from './platform/config.ts';

async function main(): Promise<void> {
  const config = loadPlatformConfig();
  const deps = await createDeps(config, { superviseJobs: config.workersInProcess });
  const app = await buildApp(deps);
  await app.listen({ port: config.port, host: config.host });
  if (config.workersInProcess) await startWorkers(deps);
  deps.logger.info(
    {
      port: config.port,
      database: deps.database.kind,
      redis: Boolean(deps.redis),
      workers: config.workersInProcess,
      clients: deps.registry.countsByStatus(),
    },
    `XLNC Perception listening on ${config.publicBaseUrl}`,
  );

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
