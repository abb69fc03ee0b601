import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, auditLog, messages } from '../platform/db/schema.ts';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { eventsOf } from '../../test/helpers/outbox.ts';
import { agentFor, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { startZohoFake, type ZohoFake } from '../../test/fakes/zoho-fake.ts';
import { parseZohoDate } from '../integrations/calendar/zoho-calendar.ts';

const ZONE = 'America/New_York';
const WEEKDAYS = { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] };
const CALENDAR = { appointment_minutes: 30, min_notice_minutes: 0, horizon_days: 14 };

/** A weekday at least `daysAhead` days from now, local to the client. */
function weekdayAhead(daysAhead: number): DateTime {
  let day = DateTime.now().setZone(ZONE).startOf('day').plus({ days: daysAhead });
  while (day.weekday > 5) day = day.plus({ days: 1 });
  return day;
}

describe('cancel and reschedule an appointment from the dashboard (client API)', () => {
  let t: TestApp;
  let zoho: ZohoFake;
  const a = uniqueId('appt-a');
  const b = uniqueId('appt-b');
  const z = uniqueId('appt-z');
  const holiday = weekdayAhead(3);
  const workday = weekdayAhead(5).equals(holiday) ? weekdayAhead(6) : weekdayAhead(5);
  let adminA: TestUser;
  let viewerA: TestUser;
  let adminB: TestUser;
  let platform: TestUser;
  let adminZ: TestUser;

  const post = (url: string, user: TestUser | undefined, body?: unknown) =>
    t.app.inject({ method: 'POST', url, headers: { ...(user ? bearer(user.accessToken) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  const get = (url: string, user: TestUser) => t.app.inject({ method: 'GET', url, headers: bearer(user.accessToken) });

  /** Books through the agent's function, as a call would; returns the appointment id. */
  async function book(clientId: string, start: string, phone: string, callId = `call_${uniqueId('bk')}`): Promise<string> {
    const res = await postSigned(
      t.app,
      clientId,
      { name: 'book_appointment', args: { name: 'Jane Roe', start, phone }, call: { call_id: callId, agent_id: agentFor(clientId), from_number: phone, to_number: '+14155550100', call_status: 'ongoing' } },
      { path: `/api/webhooks/retell/${clientId}/functions/book_appointment` },
    );
    expect(res.json()).toMatchObject({ booked: true });
    return res.json().appointment_id as string;
  }

  const at = (day: DateTime, hhmm: string) => DateTime.fromISO(`${day.toISODate()}T${hhmm}`, { zone: ZONE }).toISO() ?? '';
  const row = async (clientId: string, id: string) => (await t.deps.tenancy.withTenant(clientId, (tx) => tx.select().from(appointments).where(eq(appointments.id, id))))[0];
  const auditOf = (id: string) => t.deps.tenancy.withPlatform((tx) => tx.select().from(auditLog).where(eq(auditLog.targetId, id)));
  const eventsFor = async (clientId: string, id: string, type: 'appointment.cancelled' | 'appointment.rescheduled') =>
    (await eventsOf(t.deps.tenancy, clientId, type)).filter((e) => (e.payload as { appointment_id: string }).appointment_id === id);

  beforeAll(async () => {
    zoho = await startZohoFake();
    zoho.addAccount({ clientId: '1000.appt', clientSecret: 'zoho-secret-appt', refreshToken: 'refresh-appt', userEmail: 'owner@appt.example', calendars: ['cal-appt'] });
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a, { business_hours: WEEKDAYS, holidays: [holiday.toISODate()], calendar: { provider: 'internal', ...CALENDAR } }));
    writeClientFile(dir, testClientConfig(b, { business_hours: WEEKDAYS, calendar: { provider: 'internal', ...CALENDAR } }));
    writeClientFile(
      dir,
      testClientConfig(z, {
        business_hours: WEEKDAYS,
        calendar: {
          provider: 'zoho',
          data_center: 'us',
          calendar_id: 'cal-appt',
          user_email: 'owner@appt.example',
          oauth: { client_id: '1000.appt', client_secret: 'zoho-secret-appt', refresh_token: 'refresh-appt' },
          api_base_url: zoho.url,
          accounts_base_url: zoho.url,
          ...CALENDAR,
        },
      }),
    );
    t = await createTestApp({ clientsDir: dir });
    [adminA, viewerA, adminB, platform, adminZ] = await Promise.all([
      loginAs(t, 'client_admin', a),
      loginAs(t, 'client_viewer', a),
      loginAs(t, 'client_admin', b),
      loginAs(t, 'platform_admin'),
      loginAs(t, 'client_admin', z),
    ]);
  });
  afterAll(async () => {
    await t.close();
    await zoho.close();
  });

  it('free slots: the day in the client timezone; none on a holiday', async () => {
    const res = await get(`/api/clients/${a}/appointments/free-slots?date=${workday.toISODate()}`, viewerA);
    expect(res.statusCode).toBe(200);
    expect(res.json().timezone).toBe(ZONE);
    const starts = res.json().slots.map((s: { start: string }) => DateTime.fromISO(s.start, { zone: ZONE }).toFormat('HH:mm'));
    expect(starts[0]).toBe('09:00');
    expect(starts.at(-1)).toBe('16:30');
    expect(starts).toHaveLength(16);
    const closed = await get(`/api/clients/${a}/appointments/free-slots?date=${holiday.toISODate()}`, viewerA);
    expect(closed.json().slots).toEqual([]);
    expect((await get(`/api/clients/${a}/appointments/free-slots?date=tomorrow`, viewerA)).statusCode).toBe(400);
  });

  it('an admin reschedules: moved, one event, one audit entry, no text to the customer; the same request again changes nothing', async () => {
    const id = await book(a, at(workday, '10:00'), '+14155550201');
    const messagesBefore = (await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(messages))).length;
    const target = at(workday, '11:30');
    const res = await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, { start: target });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ changed: true, appointment: { id, status: 'booked' } });
    expect(Date.parse(res.json().appointment.starts_at)).toBe(Date.parse(target));
    expect(Date.parse(res.json().appointment.ends_at)).toBe(Date.parse(target) + 30 * 60_000);
    const again = await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, { start: target });
    expect(again.statusCode).toBe(200);
    expect(again.json().changed).toBe(false);
    expect(await eventsFor(a, id, 'appointment.rescheduled')).toHaveLength(1);
    const audit = await auditOf(id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'appointment.reschedule', clientId: a, actorUserId: adminA.id });
    expect(audit[0]?.diff).toMatchObject({ starts_at: { to: new Date(target).toISOString() } });
    expect((await t.deps.tenancy.withTenant(a, (tx) => tx.select().from(messages))).length).toBe(messagesBefore);
    // The list shows it at its new time.
    const list = await get(`/api/clients/${a}/appointments?order=asc`, viewerA);
    expect(list.json().data.find((x: { id: string }) => x.id === id).starts_at).toBe(new Date(target).toISOString());
  });

  it('moving back and forth is three changes (each audited and emitted once)', async () => {
    const id = await book(a, at(workday, '13:00'), '+14155550202');
    for (const hhmm of ['13:30', '13:00', '13:30']) {
      const res = await post(`/api/clients/${a}/appointments/${id}/reschedule`, platform, { start: at(workday, hhmm) });
      expect(res.json()).toMatchObject({ changed: true });
    }
    expect(await eventsFor(a, id, 'appointment.rescheduled')).toHaveLength(3);
    expect(await auditOf(id)).toHaveLength(3);
  });

  it('a double click cancels once: both answers 200, one event, one audit entry; a retry later says changed: false', async () => {
    const id = await book(a, at(workday, '14:00'), '+14155550203');
    const [first, second] = await Promise.all([post(`/api/clients/${a}/appointments/${id}/cancel`, adminA), post(`/api/clients/${a}/appointments/${id}/cancel`, adminA)]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(first.json().appointment.status).toBe('cancelled');
    expect(second.json().appointment.status).toBe('cancelled');
    const retry = await post(`/api/clients/${a}/appointments/${id}/cancel`, adminA);
    expect(retry.json()).toMatchObject({ changed: false, appointment: { status: 'cancelled' } });
    expect(await eventsFor(a, id, 'appointment.cancelled')).toHaveLength(1);
    expect((await auditOf(id)).map((x) => x.action)).toEqual(['appointment.cancel']);
    // The slot is free again.
    const slots = (await get(`/api/clients/${a}/appointments/free-slots?date=${workday.toISODate()}`, adminA)).json().slots;
    expect(slots.some((s: { start: string }) => Date.parse(s.start) === Date.parse(at(workday, '14:00')))).toBe(true);
    // A cancelled appointment is not rescheduled.
    const moved = await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, { start: at(workday, '15:00') });
    expect(moved.statusCode).toBe(409);
    expect(moved.json().error.code).toBe('appointment_cancelled');
  });

  it('the availability rules decide: business hours and holidays 422, a taken slot 409 with free times, a bad time 422; nothing changes', async () => {
    const id = await book(a, at(workday, '09:00'), '+14155550204');
    const taken = await book(a, at(workday, '09:30'), '+14155550205');
    const cases: [string, number, string, RegExp][] = [
      [at(workday, '20:00'), 422, 'outside_hours', /outside business hours/],
      [at(holiday, '10:00'), 422, 'outside_hours', /holiday/],
      [at(workday, '09:30'), 409, 'slot_taken', /already booked.*Free nearby: /],
      [at(workday, '10:10'), 422, 'invalid_time', /slot boundary/],
      [at(weekdayAhead(30), '10:00'), 422, 'invalid_time', /horizon/],
      [at(DateTime.now().setZone(ZONE).minus({ days: 1 }), '10:00'), 422, 'invalid_time', /passed|boundary|outside/],
      ['next tuesday', 422, 'invalid_time', /not a date-time/],
    ];
    for (const [start, status, code, message] of cases) {
      const res = await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, { start });
      expect({ start, status: res.statusCode, code: res.json().error?.code }).toEqual({ start, status, code });
      expect(res.json().error.message).toMatch(message);
    }
    expect(Date.parse((await row(a, id))?.startsAt.toISOString() ?? '')).toBe(Date.parse(at(workday, '09:00')));
    expect((await row(a, taken))?.status).toBe('booked');
    expect(await auditOf(id)).toHaveLength(0);
    expect(await eventsFor(a, id, 'appointment.rescheduled')).toHaveLength(0);
  });

  it('bad bodies: 400 in the envelope', async () => {
    const id = await book(a, at(workday, '15:30'), '+14155550206');
    for (const body of [{}, { start: 42 }, { start: '' }, { start: at(workday, '16:00'), end: 'x' }]) {
      const res = await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_payload');
    }
  });

  it('a past appointment is neither cancelled nor rescheduled: 409 appointment_in_past', async () => {
    const start = DateTime.now().minus({ days: 2 }).startOf('hour').toJSDate();
    const [past] = await t.deps.tenancy.withTenant(a, (tx) =>
      tx
        .insert(appointments)
        .values({ clientId: a, startsAt: start, endsAt: new Date(start.getTime() + 30 * 60_000), provider: 'internal', status: 'booked', customerName: 'Old', idempotencyKey: `past:${uniqueId()}` })
        .returning(),
    );
    const id = past?.id ?? '';
    for (const res of [await post(`/api/clients/${a}/appointments/${id}/cancel`, adminA), await post(`/api/clients/${a}/appointments/${id}/reschedule`, adminA, { start: at(workday, '16:00') })]) {
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('appointment_in_past');
    }
    expect((await row(a, id))?.status).toBe('booked');
  });

  describe('who may change what', () => {
    let idA: string;
    let idB: string;
    beforeAll(async () => {
      idA = await book(a, at(workday, '16:00'), '+14155550207');
      idB = await book(b, at(workday, '16:00'), '+14155550208');
    });

    const routes = [
      ['cancel', undefined],
      ['reschedule', { start: 'not-even-a-time', extra: true }],
    ] as const;

    it.each(routes)('%s: no token 401, viewer 403 (before the body is read), other client 404, unknown id 404', async (action, body) => {
      const url = (clientId: string, id: string) => `/api/clients/${clientId}/appointments/${id}/${action}`;
      const noToken = await post(url(a, idA), undefined, body);
      expect(noToken.statusCode).toBe(401);
      const viewer = await post(url(a, idA), viewerA, body);
      expect(viewer.statusCode).toBe(403);
      expect(viewer.json().error.code).toBe('forbidden');
      const otherAdmin = await post(url(a, idA), adminB, body);
      expect(otherAdmin.statusCode).toBe(404);
      // Client B's appointment through client A's URL: not found, like an id that never existed.
      const crossed = await post(url(a, idB), adminA, action === 'reschedule' ? { start: at(workday, '12:00') } : undefined);
      const unknown = await post(url(a, '00000000-0000-4000-8000-000000000000'), adminA, action === 'reschedule' ? { start: at(workday, '12:00') } : undefined);
      const malformed = await post(url(a, 'not-a-uuid'), adminA, action === 'reschedule' ? { start: at(workday, '12:00') } : undefined);
      for (const res of [crossed, unknown, malformed]) {
        expect(res.statusCode).toBe(404);
        expect(res.json().error).toMatchObject({ code: 'not_found', message: 'No such appointment' });
      }
      expect((await post(url('no-such-client', idA), adminA, body)).statusCode).toBe(404);
      expect((await row(a, idA))?.status).toBe('booked');
      expect(Date.parse((await row(a, idA))?.startsAt.toISOString() ?? '')).toBe(Date.parse(at(workday, '16:00')));
      expect((await row(b, idB))?.status).toBe('booked');
    });

    it('a platform admin may change any client; the audit entry names them', async () => {
      const res = await post(`/api/clients/${b}/appointments/${idB}/cancel`, platform);
      expect(res.statusCode).toBe(200);
      expect((await auditOf(idB))[0]).toMatchObject({ action: 'appointment.cancel', actorUserId: platform.id, actor: platform.email, clientId: b });
    });
  });

  it('a Zoho-calendar client: the fake sees the event moved, then deleted', async () => {
    const id = await book(z, at(workday, '10:00'), '+14155550209');
    const [event] = zoho.events('cal-appt');
    expect(event).toBeDefined();
    const target = at(workday, '12:00');
    const moved = await post(`/api/clients/${z}/appointments/${id}/reschedule`, adminZ, { start: target });
    expect(moved.statusCode).toBe(200);
    const updates = zoho.requests.filter((r) => r.method === 'PUT' && r.path.includes('/calendars/cal-appt/events/'));
    expect(updates).toHaveLength(1);
    const [after] = zoho.events('cal-appt');
    expect(after?.uid).toBe(event?.uid);
    expect(parseZohoDate(after?.start ?? '', ZONE)?.start.getTime()).toBe(Date.parse(target));
    expect(await eventsFor(z, id, 'appointment.rescheduled')).toHaveLength(1);

    const [c1, c2] = await Promise.all([post(`/api/clients/${z}/appointments/${id}/cancel`, adminZ), post(`/api/clients/${z}/appointments/${id}/cancel`, adminZ)]);
    expect([c1.statusCode, c2.statusCode]).toEqual([200, 200]);
    expect(zoho.events('cal-appt')).toHaveLength(0);
    expect(zoho.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/calendars/cal-appt/events/'))).toHaveLength(1);
    expect(await eventsFor(z, id, 'appointment.cancelled')).toHaveLength(1);
    expect((await auditOf(id)).map((x) => x.action).sort()).toEqual(['appointment.cancel', 'appointment.reschedule']);
  });

  it('a Zoho failure is a clear 503/502, and nothing changes here either', async () => {
    const id = await book(z, at(workday, '14:00'), '+14155550210');
    zoho.setDown(true);
    try {
      const res = await post(`/api/clients/${z}/appointments/${id}/reschedule`, adminZ, { start: at(workday, '14:30') });
      expect([502, 503]).toContain(res.statusCode);
      expect(res.json().error.message).toMatch(/calendar \(zoho.*nothing was changed/);
    } finally {
      zoho.setDown(false);
    }
    expect(Date.parse((await row(z, id))?.startsAt.toISOString() ?? '')).toBe(Date.parse(at(workday, '14:00')));
    expect(await auditOf(id)).toHaveLength(0);
  });
});
