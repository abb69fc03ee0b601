import { describe, expect, it } from 'vitest';
import { messagingClient, testProviderContext } from '../../test/helpers/messaging-clients.ts';
import { outboxWithoutSubscribers } from '../../test/helpers/outbox.ts';
import type { ServableClient } from '../clients/client.schema.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { createMemoryCache } from '../platform/redis.ts';
import { createClientAdapters } from './client-adapters.ts';

const servable = (id: string, overrides: Parameters<typeof messagingClient>[1]): ServableClient =>
  ({ ...messagingClient(id, overrides), status: 'active', source: 'file', issues: [], configHash: id, loadedAt: new Date() });

describe('per-client adapters', () => {
  // Test clients reach a provider only through a base URL they name; nothing here sends anything.
  const sms = { enabled: true, provider: 'twilio' as const, account_sid: `AC${'6'.repeat(32)}`, auth_token: 'token', from_number: '+15005550006', api_base_url: 'http://127.0.0.1:9' };
  const email = { enabled: true, provider: 'sendgrid' as const, api_key: 'SG.key', from: 'a@b.example', api_base_url: 'http://127.0.0.1:9' };

  it('are built once per client configuration and rebuilt when the configuration changes', () => {
    // Nothing here touches the database: building adapters is pure.
    const adapters = createClientAdapters({ tenancy: {} as Tenancy, cache: createMemoryCache(), providers: testProviderContext().ctx, events: outboxWithoutSubscribers() });
    const client = servable('adapters-a', { sms, email });
    const other = servable('adapters-b', { sms, email });
    const first = { sms: adapters.smsFor(client), email: adapters.emailFor(client), calendar: adapters.calendarFor(client) };
    expect(adapters.builds()).toBe(3);
    for (let i = 0; i < 5; i++) {
      expect(adapters.smsFor(client)).toBe(first.sms);
      expect(adapters.emailFor(client)).toBe(first.email);
      expect(adapters.calendarFor(client)).toBe(first.calendar);
    }
    expect(adapters.builds()).toBe(3);
    // Another client never shares them.
    expect(adapters.smsFor(other)).not.toBe(first.sms);
    // A reload gives the client a new record and config: new adapters with the new credentials.
    const reloaded = servable('adapters-a', { sms: { ...sms, auth_token: 'rotated' }, email });
    expect(adapters.smsFor(reloaded)).not.toBe(first.sms);
    expect(adapters.builds()).toBe(5);
  });
});
