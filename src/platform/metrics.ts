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
      help: 'HTTP request duration by route, method and status (per-client figures: xlnc_client_http_requests_total)',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    // One series per client and status class: a histogram per client would multiply every bucket
    // by the client count (10,000 clients, a dozen buckets, every route and status).
    clientHttpRequests: new Counter({
      name: 'xlnc_client_http_requests_total',
      help: 'Requests naming a client (webhooks, functions, client API) by client and status class (2xx, 4xx, 5xx)',
      labelNames: ['client_id', 'status_class'] as const,
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
    providerRequests: new Counter({
      name: 'xlnc_provider_requests_total',
      help: 'Outbound provider requests by client, provider, operation and outcome',
      labelNames: ['client_id', 'provider', 'operation', 'outcome'] as const,
      registers: [registry],
    }),
    providerDuration: new Histogram({
      name: 'xlnc_provider_request_duration_seconds',
      help: 'Outbound provider request latency',
      labelNames: ['provider', 'operation'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'xlnc_webhook_events_total',
      help: 'Retell webhook deliveries by client, event and outcome (accepted, duplicate, or the rejection code)',
      labelNames: ['client_id', 'event', 'outcome'] as const,
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: 'xlnc_webhook_duration_seconds',
      help: 'Retell webhook handling latency',
      labelNames: ['event', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    inboundCalls: new Counter({
      name: 'xlnc_inbound_calls_total',
      help: 'call_inbound decisions by client: accepted, over_capacity, overflow_agent, rejected',
      labelNames: ['client_id', 'decision'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'xlnc_jobs_total',
      help: 'Jobs handled by name, client and outcome (completed, failed, dead_letter)',
      labelNames: ['job', 'client_id', 'outcome'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'xlnc_queue_depth',
      help: 'Jobs by job name, client and state: created (due), scheduled (to start later), retry, active (sampled on scrape)',
      labelNames: ['job', 'client_id', 'state'] as const,
      registers: [registry],
    }),
    alertsOpen: new Gauge({
      name: 'xlnc_alerts_open',
      help: 'Open or acknowledged health alerts by client and kind (sampled on scrape; only configured clients and known kinds)',
      labelNames: ['client_id', 'kind'] as const,
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
