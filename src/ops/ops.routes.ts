/**
 * Operations endpoints: liveness, readiness and Prometheus metrics. Unauthenticated by design
 * (load balancers and scrapers call them); they reveal health, never configuration values.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../deps.ts';
import { checkReadiness } from './readiness.ts';

export function opsRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }));

    app.get('/ready', async (_request, reply) => {
      const report = await checkReadiness(deps);
      return reply.code(report.status === 'ready' ? 200 : 503).send(report);
    });

    app.get('/metrics', async (_request, reply) => {
      deps.refreshClientMetrics();
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });
  };
}
