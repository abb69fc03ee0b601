import { AppError } from '../platform/errors.ts';
import type { ClientRegistry } from './client-registry.ts';
import { isServable, type ServableClient } from './client.schema.ts';

/**
 * Resolves the client named in a URL, once per request. The record returned is frozen: a reload
 * during the request does not change the configuration the request started with.
 */
export function requireServableClient(registry: ClientRegistry, clientId: string): ServableClient {
  const record = registry.get(clientId);
  if (!record) throw new AppError('unknown_client', `Unknown client ${clientId}`);
  if (record.status === 'disabled') throw new AppError('client_disabled', `Client ${clientId} is disabled`);
  if (!isServable(record)) {
    // True to what exists: the problem is logged, counted (xlnc_client_config_invalid) and listed in /ready; nobody is paged.
    throw new AppError('client_misconfigured', `Client ${clientId} has an invalid configuration; its requests are refused until it is fixed (the reasons are listed by xlnc clients validate, and in /ready for platform admins)`);
  }
  return record;
}

/** The one `client_id` metric label for every client id that is not a configured client. */
export const UNKNOWN_CLIENT_LABEL = '_unknown';

/**
 * The `client_id` label for a client named in a request: a configured client (active, disabled or
 * invalid) gets its own series; any other id, whatever a caller puts in the URL, shares one.
 */
export function clientMetricLabel(registry: ClientRegistry, clientId: string | undefined): string {
  return clientId !== undefined && registry.get(clientId) !== undefined ? clientId : UNKNOWN_CLIENT_LABEL;
}
