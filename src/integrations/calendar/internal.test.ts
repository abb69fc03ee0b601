import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxWithoutSubscribers } from '../../../test/helpers/outbox.ts';
import { clientConfigSchema } from '../../clients/client.schema.ts';
import { uniqueId, testClientConfig } from '../../../test/helpers/test-app.ts';
import { openTestDatabase } from '../../../test/helpers/test-db.ts';
import type { Database } from '../../platform/db/database.ts';
import { appointments } from '../../platform/db/schema.ts';
import { createTenancy, type Tenancy } from '../../platform/db/tenancy.ts';
import { createCircuitBreakers } from '../../platform/provider-http.ts';
import { createMemoryCache, type KeyValueCache } from '../../platform/redis.ts';
import { calendarServiceFor } from './calendar.service.ts';

// Monday 2026-03-02 07:00 in New York; min notice 60 minutes, so 09:00 is the first slot.
const NOW = new Date('2026-03-02T12:00:00Z');

describe('internal calendar (appointments table)', () => {
  let database: Database;
  let tenancy: Tenancy;
  let cache: KeyValueCache;

  beforeAll(async () => {
    database = await openTestDatabase();
    tenancy = createTenancy(database);
    cache = createMemoryCache();
  });
  afterAll(() => database.close());

  function service(overrides: Record<string, unknown> = {}, id = uniqueId('cal')) {
    const config = clientConfigSchema.parse(testClientConfig(id, overrides));
    const calendar = calendarServiceFor(
      { id, config },
      { tenancy, cache, events: outboxWithoutSubscribers(), providerContext: { fetch, breakers: createCircuitBreakers({ failureThreshold: 5, openMs: 30_000 }) }, now: () => NOW },
    );
    return { id, calendar };
  }

  const rowsOf = (clientId: string) => tenancy.withTenant(clientId, (tx) => tx.select().from(appointments).where(eq(appointments.clientId, clientId)));

  it('offers slots from business hours with the client offset', async () => {
    const { calendar } = service();
    const slots = await calendar.findSlots({ limit: 3 });
    expect(slots).toEqual([
      { start: '2026-03-02T09:00:00-05:00', end: '2026-03-02T09:30:00-05:00' },
      { start: '2026-03-02T09:30:00-05:00', end: '2026-03-02T10:00:00-05:00' },
      { start: '2026-03-02T10:00:00-05:00', end: '2026-03-02T10:30:00-05:00' },
    ]);
    expect(await calendar.findSlots({ timeOfDay: 'afternoon', limit: 1 })).toEqual([{ start: '2026-03-02T12:00:00-05:00', end: '2026-03-02T12:30:00-05:00' }]);
    const tuesday = await calendar.findSlots({ from: new Date('2026-03-03T05:00:00Z'), days: 1, limit: 100 });
    expect(tuesday).toHaveLength(16);
    expect(tuesday.every((s) => s.start.startsWith('2026-03-03'))).toBe(true);
  });

  it('books a slot (local time read in the client zone) and stores the row', async () => {
    const { id, calendar } = service();
    const result = await calendar.book({ callId: 'call_1', start: '2026-03-03T10:00', name: 'Jane Roe', phone: '(415) 555-2671', reason: 'Tax return' });
    expect(result.status).toBe('booked');
    if (result.status !== 'booked') return;
    expect(result.appointment).toMatchObject({ start: '2026-03-03T10:00:00-05:00', end: '2026-03-03T10:30:00-05:00', status: 'booked', provider: 'internal', customerPhone: '+14155552671' });
    const rows = await rowsOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ callId: 'call_1', provider: 'internal', status: 'booked', startsAt: new Date('2026-03-03T15:00:00Z') });
  });

  it('is idempotent by (client, call, start): the same request twice, even concurrently, is one booking', async () => {
    const { id, calendar } = service();
    const input = { callId: 'call_dup', start: '2026-03-03T11:00:00-05:00', name: 'Jane Roe' };
    const results = await Promise.all([calendar.book(input), calendar.book(input), calendar.book(input)]);
    const again = await calendar.book(input);
    const ids = new Set([...results, again].map((r) => (r.status === 'booked' ? r.appointment.id : r.status)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await rowsOf(id)).toHaveLength(1);
  });

  it('a different caller asking for a taken slot gets slot_taken with nearby alternatives', async () => {
    const { calendar } = service();
    await calendar.book({ callId: 'call_a', start: '2026-03-03T10:00', name: 'A' });
    const result = await calendar.book({ callId: 'call_b', start: '2026-03-03T10:00', name: 'B' });
    expect(result.status).toBe('slot_taken');
    if (result.status !== 'slot_taken') return;
    const starts = result.alternatives.map((s) => s.start);
    expect(starts).toHaveLength(3);
    expect(starts).toEqual(expect.arrayContaining(['2026-03-03T09:30:00-05:00', '2026-03-03T10:30:00-05:00']));
    expect(starts).not.toContain('2026-03-03T10:00:00-05:00');
  });

  it('two different calls racing for one slot: exactly one wins', async () => {
    const { id, calendar } = service();
    const results = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((callId) => calendar.book({ callId, start: '2026-03-04T09:00', name: callId })),
    );
    expect(results.filter((r) => r.status === 'booked')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'slot_taken')).toHaveLength(3);
    expect(await rowsOf(id)).toHaveLength(1);
  });

  it('refuses times outside hours or off the grid, with alternatives', async () => {
    const { calendar } = service({ holidays: ['2026-03-05'] });
    expect(await calendar.book({ start: '2026-03-03T07:00', name: 'X' })).toMatchObject({ status: 'outside_hours' });
    expect(await calendar.book({ start: '2026-03-07T10:00', name: 'X' })).toMatchObject({ status: 'outside_hours' });
    expect(await calendar.book({ start: '2026-03-05T10:00', name: 'X' })).toMatchObject({ status: 'outside_hours' });
    const offGrid = await calendar.book({ start: '2026-03-03T10:10', name: 'X' });
    expect(offGrid).toMatchObject({ status: 'invalid_time' });
    if (offGrid.status === 'invalid_time') expect(offGrid.alternatives.map((s) => s.start)).toContain('2026-03-03T10:00:00-05:00');
    expect(await calendar.book({ start: '2026-03-02T08:00', name: 'X' })).toMatchObject({ status: 'outside_hours' });
    expect(await calendar.book({ start: '2026-03-02T09:00', name: 'X', callId: 'late' })).toMatchObject({ status: 'booked' });
    expect(await calendar.book({ start: 'next tuesday', name: 'X' })).toMatchObject({ status: 'invalid_time' });
  });

  it('the cached slots are invalidated by a booking and a cancellation', async () => {
    const { calendar } = service();
    const before = await calendar.findSlots({ limit: 1 });
    expect(before[0]?.start).toBe('2026-03-02T09:00:00-05:00');
    const booked = await calendar.book({ callId: 'c1', start: before[0]!.start, name: 'Jane' });
    expect((await calendar.findSlots({ limit: 1 }))[0]?.start).toBe('2026-03-02T09:30:00-05:00');
    if (booked.status !== 'booked') throw new Error('expected booked');
    expect(await calendar.cancel(booked.appointment.id)).toMatchObject({ status: 'cancelled' });
    expect((await calendar.findSlots({ limit: 1 }))[0]?.start).toBe('2026-03-02T09:00:00-05:00');
  });

  it('warm() caches the horizon so findSlots does not touch the database', async () => {
    const { id, calendar } = service();
    await calendar.warm();
    // A row written behind the service's back is not seen until the cache expires or a booking invalidates it.
    await tenancy.withTenant(id, (tx) =>
      tx.insert(appointments).values({ clientId: id, startsAt: new Date('2026-03-02T14:00:00Z'), endsAt: new Date('2026-03-02T14:30:00Z'), status: 'booked', provider: 'internal', idempotencyKey: 'manual' }),
    );
    expect((await calendar.findSlots({ limit: 1 }))[0]?.start).toBe('2026-03-02T09:00:00-05:00');
  });

  it('cancel is idempotent, frees the slot for the same call, and unknown ids are not_found', async () => {
    const { id, calendar } = service();
    const first = await calendar.book({ callId: 'c9', start: '2026-03-03T13:00', name: 'Jane' });
    if (first.status !== 'booked') throw new Error('expected booked');
    expect(await calendar.cancel(first.appointment.id)).toMatchObject({ status: 'cancelled', appointment: { status: 'cancelled' } });
    expect(await calendar.cancel(first.appointment.id)).toMatchObject({ status: 'cancelled' });
    expect(await calendar.cancel('not-a-uuid')).toEqual({ status: 'not_found' });
    const again = await calendar.book({ callId: 'c9', start: '2026-03-03T13:00', name: 'Jane' });
    expect(again.status).toBe('booked');
    if (again.status === 'booked') expect(again.appointment.id).not.toBe(first.appointment.id);
    const rows = await tenancy.withTenant(id, (tx) => tx.select().from(appointments).where(and(eq(appointments.clientId, id), eq(appointments.status, 'booked'))));
    expect(rows).toHaveLength(1);
  });

  it("reschedules, and another client's appointment reads as not found", async () => {
    const { calendar } = service();
    const other = service();
    const booked = await calendar.book({ callId: 'm1', start: '2026-03-03T14:00', name: 'Jane', phone: '+14155552671' });
    if (booked.status !== 'booked') throw new Error('expected booked');
    const moved = await calendar.reschedule(booked.appointment.id, '2026-03-03T15:00');
    expect(moved).toMatchObject({ status: 'booked', appointment: { id: booked.appointment.id, start: '2026-03-03T15:00:00-05:00' } });
    expect(await other.calendar.reschedule(booked.appointment.id, '2026-03-03T16:00')).toEqual({ status: 'not_found' });
    expect(await other.calendar.cancel(booked.appointment.id)).toEqual({ status: 'not_found' });
    expect(await other.calendar.findUpcoming({ phone: '+14155552671' })).toEqual([]);
    const upcoming = await calendar.findUpcoming({ phone: '415-555-2671' });
    expect(upcoming.map((a) => a.start)).toEqual(['2026-03-03T15:00:00-05:00']);
    await calendar.book({ callId: 'm2', start: '2026-03-03T16:00', name: 'Other' });
    expect(await calendar.reschedule(booked.appointment.id, '2026-03-03T16:00')).toMatchObject({ status: 'slot_taken' });
  });

  it('reports ok integration status for the internal calendar', async () => {
    const { calendar } = service();
    expect(await calendar.getIntegrationStatus()).toMatchObject({ capability: 'calendar', provider: 'internal', status: 'ok' });
  });
});
