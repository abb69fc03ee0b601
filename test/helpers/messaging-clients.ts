/**
 * Minimal valid client configs and a provider context for SMS / email adapter tests.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ResolvedClientConfig } from '../../src/clients/client.schema.ts';
import type { ClientConfigInput } from '../../src/clients/client.schema.ts';
import { clientConfigSchema } from '../../src/clients/client.schema.ts';
import { deepFreeze } from '../../src/clients/client-loader.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import type { ProviderContext } from '../../src/platform/provider-http.ts';
import { createCircuitBreakers } from '../../src/platform/provider-http.ts';

export function messagingClient(id: string, overrides: Partial<ClientConfigInput>): { id: string; config: ResolvedClientConfig } {
  const config = clientConfigSchema.parse({
    client_id: id,
    name: `Business ${id}`,
    environment: 'test',
    timezone: 'America/New_York',
    retell: { api_key: 'key_test', agent_ids: ['agent_1'] },
    calendar: { provider: 'internal' },
    ...overrides,
  });
  return { id, config: deepFreeze(config) };
}

export function testProviderContext(options: { failureThreshold?: number } = {}) {
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx: ProviderContext = {
    fetch,
    breakers: createCircuitBreakers({ failureThreshold: options.failureThreshold ?? 5, openMs: 60_000 }),
    metrics: { requests: metrics.providerRequests, duration: metrics.providerDuration },
  };
  return { ctx, metrics };
}

/** Counter values of xlnc_provider_requests_total as `client/provider/operation/outcome` → n. */
export async function providerRequestCounts(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const data = await metrics.providerRequests.get();
  return Object.fromEntries(
    data.values.map((value) => [`${String(value.labels.client_id)}/${String(value.labels.provider)}/${String(value.labels.operation)}/${String(value.labels.outcome)}`, value.value]),
  );
}

/** A base URL nothing listens on (connection refused): a port the OS just handed out and freed. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
