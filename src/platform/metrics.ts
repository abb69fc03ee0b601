/**
 * Prometheus metrics (prom-client) on a registry per app instance, so tests never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'xlnc_' });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'xlnc_http_request_duration_seconds',
      help: 'HTTP request duration by route, method, status and client',
      labelNames: ['route', 'method', 'status', 'client_id'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    clientsByStatus: new Gauge({
      name: 'xlnc_clients',
      help: 'Configured clients by status (active, disabled, invalid)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    clientConfigErrors: new Gauge({
      name: 'xlnc_client_config_invalid',
      help: 'Client configurations that failed validation (1 per invalid client)',
      labelNames: ['client_id'] as const,
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'xlnc_client_config_reloads_total',
      help: 'Client configuration reloads that changed something',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
