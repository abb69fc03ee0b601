import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expiredTokenFor, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { agentFor, callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));

interface CustomerJson {
  id: string;
  phone: string;
  name: string | null;
  call_count: number;
  appointment_count: number;
  message_count: number;
  last_call_at: string | null;
}

describe('GET /api/clients/:clientId/customers and /customers/:customerId', () => {
  let t: TestApp;
  const a = uniqueId('cust-a');
  const b = uniqueId('cust-b');
  const jane = '+14155550301';
  const sam = '+14155550302';
  let adminA: TestUser;
  let viewerA: TestUser;
  let adminB: TestUser;
  let platform: TestUser;
  let bookedCall: string;

  const get = (url: string, token?: string) => t.app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });
  const config = (id: string) =>
    testClientConfig(id, {
      business_hours: ALWAYS_OPEN,
      calendar: { provider: 'internal', appointment_minutes: 30, min_notice_minutes: 0, horizon_days: 7 },
      sms: { enabled: true, provider: 'text180', auth_key: 'text180-test-key', account_id: '1', short_code: '55512', keyword: 'KW' },
    });

  async function call(clientId: string, callId: string, from: string, startMs: number) {
    const res = await postSigned(t.app, clientId, callEvent(clientId, 'call_ended', callId, { from_number: from, start_timestamp: startMs, end_timestamp: startMs + 60_000 }));
    expect(res.statusCode).toBe(204);
  }

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, config(a));
    writeClientFile(dir, config(b));
    t = await createTestApp({ clientsDir: dir });
    [adminA, viewerA, adminB, platform] = await Promise.all([loginAs(t, 'client_admin', a), loginAs(t, 'client_viewer', a), loginAs(t, 'client_admin', b), loginAs(t, 'platform_admin')]);
    const now = Date.now();
    bookedCall = `call_${uniqueId('cj')}`;
    await call(a, `call_${uniqueId('cs')}`, sam, now - 3 * 3600_000);
    await call(a, `call_${uniqueId('cj')}`, jane, now - 2 * 3600_000);
    await call(a, bookedCall, jane, now - 3600_000);
    await call(b, `call_${uniqueId('cb')}`, jane, now - 3600_000);
    const start = DateTime.now().setZone('America/New_York').plus({ days: 2 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 }).toISO();
    const booked = await postSigned(
      t.app,
      a,
      { name: 'book_appointment', args: { name: 'Jane Roe', start }, call: { call_id: bookedCall, agent_id: agentFor(a), from_number: jane, to_number: '+14155550100', call_status: 'ongoing' } },
      { path: `/api/webhooks/retell/${a}/functions/book_appointment` },
    );
    expect(booked.json()).toMatchObject({ booked: true });
  });
  afterAll(() => t.close());

  it("lists the client's callers, latest call first, with their counts", async () => {
    const res = await get(`/api/clients/${a}/customers`, viewerA.accessToken);
    expect(res.statusCode).toBe(200);
    const data = res.json().data as CustomerJson[];
    expect(data.map((c) => c.phone)).toEqual([jane, sam]);
    expect(data[0]).toMatchObject({ name: 'Jane Roe', call_count: 2, appointment_count: 1, message_count: 1 });
    expect(data[1]).toMatchObject({ name: null, call_count: 1, appointment_count: 0, message_count: 0 });
    expect(res.json().next_cursor).toBeNull();
    // Client B's Jane is B's own customer, with B's counts only.
    const other = (await get(`/api/clients/${b}/customers`, adminB.accessToken)).json().data as CustomerJson[];
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ phone: jane, call_count: 1, appointment_count: 0, name: null });
  });

  it('searches by number (any formatting) and by name', async () => {
    const byDigits = (await get(`/api/clients/${a}/customers?q=${encodeURIComponent('(415) 555-0302')}`, adminA.accessToken)).json().data as CustomerJson[];
    expect(byDigits.map((c) => c.phone)).toEqual([sam]);
    const byName = (await get(`/api/clients/${a}/customers?q=jane`, adminA.accessToken)).json().data as CustomerJson[];
    expect(byName.map((c) => c.phone)).toEqual([jane]);
    const literal = (await get(`/api/clients/${a}/customers?q=%25`, adminA.accessToken)).json().data as CustomerJson[];
    expect(literal).toEqual([]);
  });

  it('pages with the cursor, each customer once; a foreign cursor is 400', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: CustomerJson[]; next_cursor: string | null } = (await get(`/api/clients/${a}/customers?limit=1${cursor ? `&cursor=${cursor}` : ''}`, adminA.accessToken)).json();
      seen.push(...page.data.map((c) => c.phone));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([jane, sam]);
    const calls = (await get(`/api/clients/${a}/calls?limit=1`, adminA.accessToken)).json();
    const bad = await get(`/api/clients/${a}/customers?cursor=${calls.next_cursor}`, adminA.accessToken);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_payload');
  });

  it("one customer: their calls, appointments and messages", async () => {
    const list = (await get(`/api/clients/${a}/customers?q=jane`, adminA.accessToken)).json().data as CustomerJson[];
    const res = await get(`/api/clients/${a}/customers/${list[0]?.id}`, viewerA.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ phone: jane, name: 'Jane Roe', call_count: 2, appointment_count: 1, message_count: 1 });
    expect(body.calls).toHaveLength(2);
    expect(body.calls[0]).toMatchObject({ call_id: bookedCall, outcome: 'booked' });
    expect(body.appointments).toHaveLength(1);
    expect(body.appointments[0]).toMatchObject({ call_id: bookedCall, status: 'booked' });
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]).toMatchObject({ channel: 'sms', kind: 'confirmation', to_address: jane });
  });

  describe('who may read what', () => {
    let idA: string;
    let idB: string;
    beforeAll(async () => {
      idA = ((await get(`/api/clients/${a}/customers?q=jane`, adminA.accessToken)).json().data as CustomerJson[])[0]?.id ?? '';
      idB = ((await get(`/api/clients/${b}/customers`, adminB.accessToken)).json().data as CustomerJson[])[0]?.id ?? '';
    });
    const urls = (clientId: string, id: string) => [`/api/clients/${clientId}/customers`, `/api/clients/${clientId}/customers/${id}`];

    it('no token or an expired one: 401', async () => {
      for (const url of urls(a, idA)) {
        expect((await get(url)).statusCode).toBe(401);
        expect((await get(url, expiredTokenFor(t, viewerA.auth))).statusCode).toBe(401);
      }
    });

    it("the client's viewer and admin, and a platform admin: 200", async () => {
      for (const url of urls(a, idA)) {
        for (const user of [viewerA, adminA, platform]) expect((await get(url, user.accessToken)).statusCode).toBe(200);
      }
    });

    it('a viewer writing: 403 or 404, never a change', async () => {
      for (const url of urls(a, idA)) {
        for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
          const res = await t.app.inject({ method, url, headers: bearer(viewerA.accessToken) });
          expect([403, 404, 405]).toContain(res.statusCode);
        }
      }
    });

    it("another client's user: 404, the same answer as a client that does not exist", async () => {
      for (const url of urls(a, idA)) {
        const res = await get(url, adminB.accessToken);
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('not_found');
      }
      const missing = await get(`/api/clients/no-such-client/customers`, adminB.accessToken);
      const other = await get(`/api/clients/${a}/customers`, adminB.accessToken);
      expect(other.json().error.message).toBe(missing.json().error.message);
    });

    it("client B's customer through client A's URL, an unknown or malformed id: 404", async () => {
      for (const id of [idB, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const res = await get(`/api/clients/${a}/customers/${id}`, adminA.accessToken);
        expect(res.statusCode).toBe(404);
        expect(res.json().error).toMatchObject({ code: 'not_found', message: 'No such customer' });
      }
    });
  });
});
