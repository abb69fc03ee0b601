/**
 * Each client's provider adapters (calendar, SMS, email), built once per client and configuration
 * and reused for every message and request: the Twilio SDK client and its keep-alive agent, the
 * SendGrid client, the Zoho token source. Keyed by the configuration object itself: a client's
 * record (and so its config) is replaced whenever its file or database row changes, so a new
 * configuration builds new adapters, and adapters of a configuration nobody holds any more are
 * garbage-collected with it.
 */
import type { ResolvedClientConfig, ServableClient } from '../clients/client.schema.ts';
import type { ClientAdapters } from '../core/jobs.ts';
import type { DomainEventEmitter } from '../core/domain-events.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import type { ProviderContext } from '../platform/provider-http.ts';
import type { KeyValueCache } from '../platform/redis.ts';
import { calendarServiceFor, type CalendarService } from './calendar/calendar.service.ts';
import { emailSenderFor, type EmailSender } from './email/email.ts';
import { smsSenderFor, type SmsSender } from './sms/sms.ts';

export interface ClientAdapterDeps {
  tenancy: Tenancy;
  cache: KeyValueCache;
  providers: ProviderContext;
  events: DomainEventEmitter;
}

type Built = { clientId: string; calendar?: CalendarService; sms?: SmsSender; email?: EmailSender };

export function createClientAdapters(deps: ClientAdapterDeps): ClientAdapters & { builds(): number } {
  const byConfig = new WeakMap<ResolvedClientConfig, Built>();
  let builds = 0;
  const entry = (client: ServableClient): Built => {
    let built = byConfig.get(client.config);
    // The same config object under another id never happens for registry records; a test's copy
    // under a new id gets its own adapters.
    if (!built || built.clientId !== client.id) {
      built = { clientId: client.id };
      byConfig.set(client.config, built);
    }
    return built;
  };
  const count = <T>(make: () => T): T => {
    builds += 1;
    return make();
  };
  return {
    calendarFor(client) {
      const built = entry(client);
      return (built.calendar ??= count(() => calendarServiceFor(client, { tenancy: deps.tenancy, cache: deps.cache, providerContext: deps.providers, events: deps.events })));
    },
    smsFor(client) {
      const built = entry(client);
      return (built.sms ??= count(() => smsSenderFor(client, deps.providers)));
    },
    emailFor(client) {
      const built = entry(client);
      return (built.email ??= count(() => emailSenderFor(client, deps.providers, { zohoTokenCache: deps.cache })));
    },
    /** How many adapters were built (tests: a second message to the same client builds none). */
    builds: () => builds,
  };
}
