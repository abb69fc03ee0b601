/**
 * Operations endpoints: liveness, readiness and Prometheus metrics. Unauthenticated by design
 * (load balancers and scrapers call them); they reveal health, never configuration values.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../deps.ts';
import { checkReadiness } from './readiness.ts';

/** Queue depth is sampled when scraped: one grouped query, not a counter kept on every job. */
async function sampleQueueDepth(deps: Deps): Promise<void> {
  const rows = await deps.queue.depth().catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'queue depth sample failed');
    return undefined;
  });
  if (!rows) return;
  deps.metrics.queueDepth.reset();
  for (const row of rows) deps.metrics.queueDepth.set({ job: row.queue, client_id: row.client_id, state: row.state }, row.count);
}

export function opsRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }));

    app.get('/ready', async (_request, reply) => {
      const report = await checkReadiness(deps);
      return reply.code(report.status === 'ready' ? 200 : 503).send(report);
    });

    app.get('/metrics', async (_request, reply) => {
      deps.refreshClientMetrics();
      await sampleQueueDepth(deps);
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });
  };
}
