/**
 * Operations endpoints: liveness, readiness and Prometheus metrics. Unauthenticated by design
 * (load balancers and scrapers call them); they reveal health, never configuration values.
 * /ready's per-client detail is for platform admins.
 */
import type { FastifyPluginAsync } from 'fastify';
import { openAlertCounts } from '../alerts/alerts.service.ts';
import { ALERT_KINDS } from '../alerts/detectors.ts';
import type { Deps } from '../deps.ts';
import { authenticate } from '../auth/auth.guard.ts';
import { checkReadiness, publicReadiness } from './readiness.ts';

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

/**
 * Open alerts per client and kind, sampled when scraped. Labels stay bounded: only clients the
 * registry knows and the closed list of kinds (a row of a removed client is not a series).
 */
async function sampleOpenAlerts(deps: Deps): Promise<void> {
  const counts = await openAlertCounts(deps.tenancy).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'open alerts sample failed');
    return undefined;
  });
  if (!counts) return;
  deps.metrics.alertsOpen.reset();
  const kinds: readonly string[] = ALERT_KINDS;
  for (const row of counts) {
    if (!kinds.includes(row.kind) || !deps.registry.get(row.clientId)) continue;
    deps.metrics.alertsOpen.set({ client_id: row.clientId, kind: row.kind }, row.count);
  }
}

export function opsRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    // Probes and scrapes every few seconds: no spans (they would drown the traces worth reading).
    const untraced = { config: { tracing: 'off' as const } };
    app.get('/health', untraced, async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }));

    // Public: ready or not and why in general terms. The per-client detail (ids, config files,
    // driver messages) only for a platform admin's token; any other token, or one that cannot be
    // checked while the database is down, gets the public answer.
    app.get('/ready', untraced, async (request, reply) => {
      const report = await checkReadiness(deps);
      const admin = request.headers.authorization ? await authenticate(request).then(() => request.user?.role === 'platform_admin', () => false) : false;
      return reply.code(report.status === 'ready' ? 200 : 503).send(admin ? report : publicReadiness(report));
    });

    app.get('/metrics', untraced, async (_request, reply) => {
      deps.refreshClientMetrics();
      await Promise.all([sampleQueueDepth(deps), sampleOpenAlerts(deps)]);
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    });
  };
}
