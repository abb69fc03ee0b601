/**
 * The one place that decides where a client's provider requests go. A live client uses the
 * provider block's `api_base_url` or the vendor's own endpoint. A test client
 * (`"environment": "test"`) reaches a provider only through an `api_base_url` it names (a local
 * stand-in, a vendor sandbox); without one nothing leaves: its calendar is the platform's own
 * appointment book (appointments show provider "sandbox") and its messages are stored with status
 * "sandbox" (messages.service.ts sends nothing for test clients at all). The loader logs one
 * warning per sandboxed capability when the client loads (`sandboxNotices`).
 */
import type { ResolvedClientConfig } from '../clients/client.schema.ts';

export type ProviderTarget = { kind: 'provider'; baseUrl: string } | { kind: 'sandbox' };

/** Where requests to a provider go for this client: `override` (its api_base_url), the vendor, or nowhere. */
export function providerTarget(environment: 'live' | 'test', override: string | undefined, vendorDefault: string): ProviderTarget {
  if (override !== undefined) return { kind: 'provider', baseUrl: override };
  if (environment === 'test') return { kind: 'sandbox' };
  return { kind: 'provider', baseUrl: vendorDefault };
}

/** A sandboxed capability was asked to call its provider (a bug: callers check first). */
export class SandboxedProviderError extends Error {
  constructor(clientId: string, capability: string) {
    super(`client ${clientId} is a test client without ${capability}.api_base_url: its ${capability} provider is never called`);
    this.name = 'SandboxedProviderError';
  }
}

/** The base URL for a provider call; throws for a sandboxed capability. */
export function providerBaseUrl(client: { id: string; config: ResolvedClientConfig }, capability: 'calendar' | 'sms' | 'email', override: string | undefined, vendorDefault: string): string {
  const target = providerTarget(client.config.environment, override, vendorDefault);
  if (target.kind === 'sandbox') throw new SandboxedProviderError(client.id, capability);
  return target.baseUrl;
}

/** What a test client's file does not send anywhere, one line per capability (logged at every load). */
export function sandboxNotices(config: Pick<ResolvedClientConfig, 'environment' | 'calendar' | 'sms' | 'email'>): string[] {
  if (config.environment !== 'test') return [];
  const notices: string[] = [];
  if (config.calendar.provider === 'zoho' && config.calendar.api_base_url === undefined) {
    notices.push(
      '$.calendar: environment "test" without calendar.api_base_url: nothing is sent to Zoho; slots come from business_hours and bookings stay in the ' +
        'platform\'s appointment book (provider "sandbox"); name a calendar.api_base_url to use a stand-in',
    );
  }
  for (const [capability, block] of [['sms', config.sms], ['email', config.email]] as const) {
    if (block?.enabled) notices.push(`$.${capability}: environment "test": ${capability === 'sms' ? 'texts' : 'emails'} are stored with status "sandbox" and not sent`);
  }
  return notices;
}
