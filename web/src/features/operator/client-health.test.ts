import { describe, expect, it } from 'vitest';
import { healthOf, visibleClients } from './client-health.ts';
import type { ClientSummary } from './operator.queries.ts';

function client(id: string, overrides: Partial<ClientSummary> = {}): ClientSummary {
  return {
    id,
    name: `Name ${id}`,
    status: 'active',
    source: 'file',
    environment: 'live',
    version: null,
    webhook_url: `http://x/api/webhooks/retell/${id}`,
    health: { ok: true, issues: [], integrations: [] },
    ...overrides,
  };
}

const broken = client('b-broken', { status: 'invalid', health: { ok: false, issues: [{ path: '$.timezone', message: 'Required' }], integrations: [] } });
const zoho = client('c-zoho', {
  health: { ok: false, issues: [], integrations: [{ capability: 'calendar', provider: 'zoho', status: 'auth_failed', detail: 'refresh token revoked', updated_at: '' }] },
});
const fine = client('a-fine');

describe('client health', () => {
  it('names every problem the API reports', () => {
    expect(healthOf(broken)).toEqual({ level: 'bad', label: 'Configuration invalid', problems: ['$.timezone: Required'] });
    expect(healthOf(zoho)).toEqual({ level: 'warn', label: '1 problem', problems: ['calendar (zoho): refresh token revoked'] });
    expect(healthOf(fine).level).toBe('ok');
  });

  it('puts the worst first by default, and filters and sorts as the URL says', () => {
    const all = [fine, zoho, broken];
    expect(visibleClients(all, {}).map((c) => c.id)).toEqual(['b-broken', 'c-zoho', 'a-fine']);
    expect(visibleClients(all, { health: 'problems' }).map((c) => c.id)).toEqual(['b-broken', 'c-zoho']);
    expect(visibleClients(all, { sort: 'id', desc: true }).map((c) => c.id)).toEqual(['c-zoho', 'b-broken', 'a-fine']);
    expect(visibleClients(all, { q: 'ZOHO' }).map((c) => c.id)).toEqual(['c-zoho']);
    expect(visibleClients(all, { status: 'invalid' }).map((c) => c.id)).toEqual(['b-broken']);
  });
});
