/**
 * The `integration_status` row per client and capability (calendar, sms, email): what the operator
 * and readiness views show when a client's provider credentials stop working. A provider refusing
 * the credentials marks the capability `integration_error`, with what to do; the next success marks
 * it `ok` again. Successes are frequent, so an "ok" already written is remembered in the cache
 * and not rewritten for a while.
 */
import type { Tenancy } from '../platform/db/tenancy.ts';
import { findIntegrationStatus, upsertIntegrationStatus } from './integration-health.repo.ts';
import type { DomainEventEmitter } from '../core/domain-events.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { clientKey, type KeyValueCache } from '../platform/redis.ts';
import { isZohoPermanentAuthError } from './zoho/zoho-oauth.ts';

export type Capability = 'calendar' | 'sms' | 'email';

export interface IntegrationHealth {
  capability: Capability;
  provider: string;
  status: 'ok' | 'integration_error';
  detail: string | null;
  updatedAt: Date | null;
}

/** How long a recorded "ok" spares us re-writing it after each successful provider call. */
const OK_STATUS_TTL_MS = 10 * 60_000;

/**
 * Credentials only a person can fix: Zoho's permanent OAuth errors, or a provider answering 401 or
 * 403 (Twilio 20003, SendGrid's rejected key or unverified sender). Other failures say nothing
 * about the credentials.
 */
export function isCredentialError(error: unknown): error is ProviderError {
  return isZohoPermanentAuthError(error) || (error instanceof ProviderError && (error.status === 401 || error.status === 403));
}

export interface IntegrationHealthRecorder {
  ok(provider: string): Promise<void>;
  /** Marks the capability broken when `error` is a credential error; otherwise does nothing. */
  failed(provider: string, error: unknown, action: string): Promise<void>;
}

/**
 * Records a client's integration health. A change between ok and integration_error also emits
 * `integration.degraded` / `integration.recovered`, in the same transaction.
 */
export function integrationHealthFor(
  deps: { tenancy: Tenancy; cache: KeyValueCache; events: DomainEventEmitter },
  clientId: string,
  capability: Capability,
): IntegrationHealthRecorder {
  const okKey = clientKey(clientId, capability, 'integration-ok');
  const write = (health: Pick<IntegrationHealth, 'provider' | 'status' | 'detail'>) =>
    deps.tenancy.withTenant(clientId, async (tx) => {
      const previous = await upsertIntegrationStatus(tx, clientId, capability, health);
      const wasBroken = previous?.status === 'integration_error';
      // Each change is named by the moment the previous state was written: a re-run finds the new state and emits nothing.
      const key = `integration:${capability}:${health.status}:${previous?.updatedAt.toISOString() ?? 'first'}`;
      if (health.status === 'integration_error' && !wasBroken) {
        await deps.events.emit(tx, clientId, 'integration.degraded', { capability, provider: health.provider, detail: health.detail ?? '' }, { key });
      } else if (health.status === 'ok' && wasBroken) {
        await deps.events.emit(tx, clientId, 'integration.recovered', { capability, provider: health.provider }, { key });
      }
    });
  return {
    async ok(provider) {
      if ((await deps.cache.get(okKey)) !== undefined) return;
      await write({ provider, status: 'ok', detail: null });
      await deps.cache.set(okKey, '1', OK_STATUS_TTL_MS);
    },
    async failed(provider, error, action) {
      if (!isCredentialError(error)) return;
      await deps.cache.del(okKey);
      const reason = error.code ?? (error.status !== undefined ? `http_${error.status}` : 'rejected');
      await write({ provider, status: 'integration_error', detail: `${provider} rejected the ${capability} credentials (${reason}); ${action}` });
    },
  };
}

export async function readIntegrationHealth(tenancy: Tenancy, clientId: string, capability: Capability): Promise<IntegrationHealth | undefined> {
  const row = await tenancy.withTenant(clientId, (tx) => findIntegrationStatus(tx, clientId, capability));
  if (!row) return undefined;
  return {
    capability,
    provider: row.provider,
    status: row.status === 'integration_error' ? 'integration_error' : 'ok',
    detail: row.detail,
    updatedAt: row.updatedAt,
  };
}
