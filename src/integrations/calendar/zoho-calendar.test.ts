import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxWithoutSubscribers } from '../../../test/helpers/outbox.ts';
import { clientConfigSchema } from '../../clients/client.schema.ts';
import { startZohoFake, type ZohoFake } from '../../../test/fakes/zoho-fake.ts';
import { testClientConfig, uniqueId } from '../../../test/helpers/test-app.ts';
import { openTestDatabase } from '../../../test/helpers/test-db.ts';
import type { Database } from '../../platform/db/database.ts';
import { appointments } from '../../platform/db/schema.ts';
import { createTenancy, type Tenancy } from '../../platform/db/tenancy.ts';
import { createCircuitBreakers, ProviderError, type ProviderContext } from '../../platform/provider-http.ts';
import { createMemoryCache, type KeyValueCache } from '../../platform/redis.ts';
import { providerTarget, sandboxNotices } from '../provider-endpoint.ts';
import { createZohoTokenSource } from '../zoho/zoho-oauth.ts';
import { calendarServiceFor } from './calendar.service.ts';
import { createZohoCalendar, formatZohoUtc, parseZohoDate } from './zoho-calendar.ts';

// Monday 2026-03-02 07:00 in New York.
const NOW = new Date('2026-03-02T12:00:00Z');
const context = (): ProviderContext => ({ fetch, breakers: createCircuitBreakers({ failureThreshold: 50, openMs: 30_000 }) });

describe('Zoho date formats', () => {
  it('parses the three shapes Zoho returns', () => {
    expect(parseZohoDate('20250310T140000Z', 'America/New_York')?.start.toISOString()).toBe('2025-03-10T14:00:00.000Z');
    expect(parseZohoDate('20191101T143000+0530', 'America/New_York')?.start.toISOString()).toBe('2019-11-01T09:00:00.000Z');
    const allDay = parseZohoDate('20260308', 'America/New_York');
    expect(allDay?.start.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(allDay?.endOfDay?.toISOString()).toBe('2026-03-09T04:00:00.000Z'); // 23-hour DST day
    expect(parseZohoDate('20260308Z', 'UTC')?.start.toISOString()).toBe('2026-03-08T00:00:00.000Z');
    expect(parseZohoDate('garbage', 'UTC')).toBeUndefined();
    expect(formatZohoUtc(new Date('2026-03-02T09:05:07.123Z'))).toBe('20260302T090507Z');
  });
});

describe('Zoho Calendar (contract against the fake, and the calendar service on top)', () => {
  let fake: ZohoFake;
  let database: Database;
  let tenancy: Tenancy;

  beforeAll(async () => {
    fake = await startZohoFake();
    database = await openTestDatabase();
    tenancy = createTenancy(database);
  });
  afterAll(async () => {
    await fake.close();
    await database.close();
  });

  function zohoClient(options: { userEmail?: boolean; cache?: KeyValueCache; timeoutMs?: number; refreshToken?: string; id?: string } = {}) {
    const id = options.id ?? uniqueId('zc');
    const oauth = { client_id: `1000.${id}`, client_secret: `secret-${id}`, refresh_token: options.refreshToken ?? `1000.refresh.${id}` };
    const calendarId = `cal-${id}`;
    const userEmail = `owner@${id}.example`;
    fake.addAccount({ clientId: oauth.client_id, clientSecret: oauth.client_secret, refreshToken: oauth.refresh_token, userEmail, calendars: [calendarId] });
    const config = clientConfigSchema.parse(
      testClientConfig(id, {
        calendar: {
          provider: 'zoho',
          data_center: 'us',
          calendar_id: calendarId,
          oauth,
          ...(options.userEmail === false ? {} : { user_email: userEmail }),
          api_base_url: fake.url,
          accounts_base_url: fake.url,
        },
      }),
    );
    const cache = options.cache ?? createMemoryCache();
    const calendar = calendarServiceFor(
      { id, config },
      { tenancy, cache, events: outboxWithoutSubscribers(), providerContext: context(), now: () => NOW, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) },
    );
    const adapter = () =>
      createZohoCalendar({
        ctx: context(),
        tokens: createZohoTokenSource({ ctx: context(), cache, clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url }),
        clientId: id,
        calendarId,
        userEmail,
        baseUrl: `${fake.url}/api/v1`,
        timezone: 'America/New_York',
      });
    return { id, oauth, calendarId, userEmail, calendar, adapter, cache };
  }

  const calendarRequests = (calendarId: string) => fake.requests.filter((r) => r.path.startsWith(`/api/v1/calendars/${calendarId}`));
  const rowsOf = (clientId: string) => tenancy.withTenant(clientId, (tx) => tx.select().from(appointments).where(eq(appointments.clientId, clientId)));

  it('reads busy time from free/busy with the owner email and the Zoho-oauthtoken header', async () => {
    const c = zohoClient();
    fake.addEvent(c.calendarId, { start: new Date('2026-03-02T14:00:00Z'), end: new Date('2026-03-02T15:00:00Z') }); // 09:00-10:00 local
    const slots = await c.calendar.findSlots({ limit: 2 });
    expect(slots.map((s) => s.start)).toEqual(['2026-03-02T10:00:00-05:00', '2026-03-02T10:30:00-05:00']);
    const fb = fake.requests.filter((r) => r.path === '/api/v1/calendars/freebusy' && r.account === c.oauth.refresh_token);
    expect(fb).toHaveLength(1);
    expect(fb[0]?.query).toMatchObject({ uemail: c.userEmail, ftype: 'eventbased', sdate: '20260302T120000Z' });
    expect(fb[0]?.headers.authorization).toMatch(/^Zoho-oauthtoken /);
  });

  it('fb_not_enabled is not "free": busy time comes from the event list instead', async () => {
    const c = zohoClient();
    fake.setFreeBusyEnabled(c.userEmail, false);
    fake.addEvent(c.calendarId, { start: new Date('2026-03-02T14:00:00Z'), end: new Date('2026-03-02T15:00:00Z') });
    const slots = await c.calendar.findSlots({ limit: 1 });
    expect(slots[0]?.start).toBe('2026-03-02T10:00:00-05:00');
    const list = calendarRequests(c.calendarId).filter((r) => r.path.endsWith('/events') && r.method === 'GET');
    expect(list).toHaveLength(1);
    expect(JSON.parse(list[0]!.query.range!)).toEqual({ start: '20260302T120000Z', end: '20260316T040000Z' });
  });

  it('without a user email, busy time comes from the event list', async () => {
    const c = zohoClient({ userEmail: false });
    fake.addEvent(c.calendarId, { start: new Date('2026-03-02T14:00:00Z'), end: new Date('2026-03-02T14:30:00Z') });
    expect((await c.calendar.findSlots({ limit: 1 }))[0]?.start).toBe('2026-03-02T09:30:00-05:00');
  });

  it('books: creates the event with eventdata (no body), ref in the description, and stores the row with uid and etag', async () => {
    const c = zohoClient();
    const result = await c.calendar.book({ callId: 'call_z1', start: '2026-03-03T10:00', name: 'Jane Roe', phone: '+14155552671', reason: 'Consultation' });
    expect(result.status).toBe('booked');
    if (result.status !== 'booked') return;
    const [event] = fake.events(c.calendarId);
    expect(event).toBeDefined();
    expect(event!.start).toBe('20260303T150000Z');
    expect(event!.end).toBe('20260303T153000Z');
    expect(event!.description).toContain(`ref=${result.appointment.id}`);
    expect(event!.raw).toMatchObject({ isallday: false, notify_attendee: 0, dateandtime: { timezone: 'America/New_York' } });
    const create = calendarRequests(c.calendarId).find((r) => r.method === 'POST');
    expect(create?.body).toBe('');
    expect(create?.query.eventdata).toBeDefined();
    const [row] = await rowsOf(c.id);
    expect(row).toMatchObject({ provider: 'zoho', providerEventId: event!.uid, providerEtag: event!.etag, status: 'booked' });
    // The same call and slot again: the same booking, no second event.
    const again = await c.calendar.book({ callId: 'call_z1', start: '2026-03-03T10:00', name: 'Jane Roe' });
    expect(again).toMatchObject({ status: 'booked', appointment: { id: result.appointment.id } });
    expect(fake.events(c.calendarId)).toHaveLength(1);
  });

  it('a slot busy in Zoho is slot_taken', async () => {
    const c = zohoClient();
    fake.addEvent(c.calendarId, { start: new Date('2026-03-03T15:00:00Z'), end: new Date('2026-03-03T16:00:00Z') });
    const result = await c.calendar.book({ callId: 'x', start: '2026-03-03T10:30', name: 'Jane' });
    expect(result.status).toBe('slot_taken');
    expect(fake.events(c.calendarId)).toHaveLength(1);
    expect(await rowsOf(c.id)).toHaveLength(0);
  });

  it('an ambiguous create (timeout after Zoho stored it) is reconciled by ref: one event, one booking', async () => {
    const c = zohoClient({ timeoutMs: 300 });
    await c.calendar.findSlots(); // token and slots warmed before the slow create
    fake.setCreateDelayMs(800);
    try {
      const result = await c.calendar.book({ callId: 'call_slow', start: '2026-03-03T11:00', name: 'Jane' });
      expect(result.status).toBe('booked');
      const events = fake.events(c.calendarId);
      expect(events).toHaveLength(1);
      const [row] = await rowsOf(c.id);
      expect(row?.providerEventId).toBe(events[0]?.uid);
      const list = calendarRequests(c.calendarId).find((r) => r.method === 'GET' && r.path.endsWith('/events'));
      expect(list?.headers.accept).toBe('application/json+large');
    } finally {
      fake.setCreateDelayMs(0);
    }
  });

  it('reschedules with the latest etag (re-read first, so an edit in Zoho does not break it)', async () => {
    const c = zohoClient();
    const booked = await c.calendar.book({ callId: 'r', start: '2026-03-03T13:00', name: 'Jane' });
    if (booked.status !== 'booked') throw new Error('expected booked');
    const [event] = fake.events(c.calendarId);
    const firstEtag = event!.etag;
    event!.etag = `${firstEtag}9`; // someone edited the event in Zoho
    const moved = await c.calendar.reschedule(booked.appointment.id, '2026-03-03T14:00');
    expect(moved).toMatchObject({ status: 'booked', appointment: { start: '2026-03-03T14:00:00-05:00' } });
    const [after] = fake.events(c.calendarId);
    expect(after).toMatchObject({ uid: event!.uid, start: '20260303T190000Z' });
    expect(after!.description).toContain(`ref=${booked.appointment.id}`);
    const put = calendarRequests(c.calendarId).find((r) => r.method === 'PUT');
    expect(String(JSON.parse(put!.query.eventdata!).etag)).toBe(`${firstEtag}9`);
    const [row] = await rowsOf(c.id);
    expect(row?.providerEtag).toBe(after!.etag);
  });

  it('cancels with GET for a fresh etag then DELETE with the etag header', async () => {
    const c = zohoClient();
    const booked = await c.calendar.book({ callId: 'd', start: '2026-03-03T15:00', name: 'Jane' });
    if (booked.status !== 'booked') throw new Error('expected booked');
    const [event] = fake.events(c.calendarId);
    expect(await c.calendar.cancel(booked.appointment.id)).toMatchObject({ status: 'cancelled' });
    expect(fake.events(c.calendarId)).toHaveLength(0);
    const del = calendarRequests(c.calendarId).find((r) => r.method === 'DELETE');
    expect(del?.headers.etag).toBe(event!.etag);
    expect(await c.calendar.cancel(booked.appointment.id)).toMatchObject({ status: 'cancelled' });
  });

  it('deleting an event already gone from Zoho succeeds', async () => {
    const c = zohoClient();
    await expect(c.adapter().deleteEvent({ eventId: 'missing@zoho.com', etag: '1' })).resolves.toBeUndefined();
  });

  it('on 401 drops the token, refreshes once and retries', async () => {
    const c = zohoClient();
    await c.calendar.findSlots();
    fake.expireAccessTokens();
    await c.calendar.warm();
    expect(fake.refreshCount(c.oauth.refresh_token)).toBe(2);
  });

  it('a 503 from Zoho is a retryable ProviderError for reads', async () => {
    const c = zohoClient();
    await c.calendar.findSlots();
    fake.setDown(true);
    try {
      const error = await c.calendar.warm().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'zoho_calendar', status: 503, retryable: true });
    } finally {
      fake.setDown(false);
    }
  });

  it('HTTP 200 {"error":"invalid_code"} marks the calendar integration_error; a reconnect marks it ok', async () => {
    const id = uniqueId('zc');
    const broken = zohoClient({ id });
    fake.setTokenMode(broken.oauth.refresh_token, 'invalid_code');
    await expect(broken.calendar.findSlots()).rejects.toMatchObject({ code: 'invalid_code', retryable: false });
    expect(await broken.calendar.getIntegrationStatus()).toMatchObject({ status: 'integration_error', provider: 'zoho' });
    const booking = await broken.calendar.book({ callId: 'b', start: '2026-03-03T10:00', name: 'Jane' }).catch((e: unknown) => e);
    expect(booking).toMatchObject({ code: 'invalid_code' });
    expect(await rowsOf(id)).toHaveLength(0);
    // The operator reconnects Zoho: a new refresh token in the config.
    const fixed = zohoClient({ id, refreshToken: `1000.refresh.new.${id}`, cache: broken.cache });
    await fixed.calendar.warm();
    expect(await fixed.calendar.getIntegrationStatus()).toMatchObject({ status: 'ok', provider: 'zoho' });
  });

  it('caches slots per client for 60 s and a booking invalidates them', async () => {
    const c = zohoClient();
    await c.calendar.findSlots();
    await c.calendar.findSlots({ timeOfDay: 'afternoon' });
    const freeBusyCalls = () => fake.requests.filter((r) => r.path === '/api/v1/calendars/freebusy' && r.account === c.oauth.refresh_token).length;
    expect(freeBusyCalls()).toBe(1);
    await c.calendar.book({ callId: 'k', start: '2026-03-02T09:00', name: 'Jane' });
    const after = await c.calendar.findSlots({ limit: 1 });
    expect(after[0]?.start).toBe('2026-03-02T09:30:00-05:00');
    expect(freeBusyCalls()).toBeGreaterThan(1);
  });

  it("isolation: two clients in one process only ever send their own token and calendar", async () => {
    const a = zohoClient();
    const b = zohoClient();
    await Promise.all([
      a.calendar.findSlots(),
      b.calendar.findSlots(),
      a.calendar.book({ callId: 'ia', start: '2026-03-03T10:00', name: 'A' }),
      b.calendar.book({ callId: 'ib', start: '2026-03-03T10:00', name: 'B' }),
    ]);
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const mine = fake.requests.filter((r) => r.token !== undefined && r.account === self.oauth.refresh_token);
      expect(mine.length).toBeGreaterThan(0);
      for (const request of mine) {
        expect(request.path).not.toContain(other.calendarId);
        expect(request.query.uemail ?? self.userEmail).toBe(self.userEmail);
      }
      const touchingMyCalendar = fake.requests.filter((r) => r.path.includes(`/calendars/${self.calendarId}`) || r.query.uemail === self.userEmail);
      for (const request of touchingMyCalendar) expect(request.account).toBe(self.oauth.refresh_token);
      for (const request of fake.tokenRequestsFor(self.oauth.refresh_token)) {
        expect(new URLSearchParams(request.body).get('client_id')).toBe(self.oauth.client_id);
      }
      expect(fake.events(self.calendarId)).toHaveLength(1);
    }
  });
});

describe('a test client with a Zoho calendar and no calendar.api_base_url', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('calls no provider: slots from business hours, bookings kept in our book as provider "sandbox", and the load says so', async () => {
    const id = uniqueId('zsand');
    const config = clientConfigSchema.parse(
      testClientConfig(id, { calendar: { provider: 'zoho', data_center: 'us', calendar_id: 'cal-x', oauth: { client_id: '1000.X', client_secret: 'secret-x', refresh_token: '1000.refresh.x' } } }),
    );
    const requested: string[] = [];
    const recordingFetch: typeof fetch = (input) => {
      requested.push(String(input instanceof Request ? input.url : input));
      return Promise.reject(new TypeError('fetch failed'));
    };
    const calendar = calendarServiceFor(
      { id, config },
      { tenancy: createTenancy(database), cache: createMemoryCache(), events: outboxWithoutSubscribers(), providerContext: { fetch: recordingFetch, breakers: createCircuitBreakers({ failureThreshold: 50, openMs: 30_000 }) }, now: () => NOW },
    );
    const slots = await calendar.findSlots({ limit: 2 });
    expect(slots).toHaveLength(2);
    const booked = await calendar.book({ start: slots[0]!.start, name: 'Jane Roe', phone: '+14155550142' });
    expect(booked.status).toBe('booked');
    if (booked.status === 'booked') expect(booked.appointment.provider).toBe('sandbox');
    expect(requested).toEqual([]);
    expect(sandboxNotices(config)[0]).toMatch(/nothing is sent to Zoho.*provider "sandbox"/);
  });

  it('the one decision: live clients go to the vendor, test clients only to a base URL they name', () => {
    expect(providerTarget('live', undefined, 'https://calendar.zoho.com/api/v1')).toEqual({ kind: 'provider', baseUrl: 'https://calendar.zoho.com/api/v1' });
    expect(providerTarget('test', undefined, 'https://calendar.zoho.com/api/v1')).toEqual({ kind: 'sandbox' });
    expect(providerTarget('test', 'http://127.0.0.1:4000', 'https://calendar.zoho.com/api/v1')).toEqual({ kind: 'provider', baseUrl: 'http://127.0.0.1:4000' });
  });
});
