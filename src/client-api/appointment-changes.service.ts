/**
 * Cancelling and rescheduling an appointment from the dashboard. The change goes through the same
 * calendar service the agent's functions use (calendar.service.ts): the provider's calendar is
 * updated, the availability rules decide, `appointment.cancelled` / `appointment.rescheduled` is
 * emitted, and no customer text goes out (the function path sends none either). The audit entry is
 * written in the transaction that records the change, by the one request that made it.
 */
import { DateTime } from 'luxon';
import { resolveAuditActor, writeAudit } from '../admin/audit.service.ts';
import { isServable, type ClientRecord, type ServableClient } from '../clients/client.schema.ts';
import type { ClientAdapters } from '../core/jobs.ts';
import type { AppointmentRow, ChangeOptions, Slot } from '../integrations/calendar/calendar.service.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { findAppointmentRow } from './client-api.repo.ts';
import type { FreeSlotsView } from './client-api.schemas.ts';
import { appointmentView } from './client-api.service.ts';

/** Who changes it, for the audit log. */
export interface ChangeActor {
  userId: string;
  requestId: string;
}

/** Slots offered for one day: more than a day of 15-minute slots ever has. */
const SLOTS_PER_DAY = 200;

function servable(record: ClientRecord): ServableClient {
  if (isServable(record)) return record;
  if (record.status === 'disabled') throw new AppError('client_disabled', 'This client is disabled; its appointments cannot be changed');
  throw new AppError('client_misconfigured', "This client's configuration is invalid; its appointments cannot be changed until it is fixed");
}

function local(client: ServableClient, iso: string): string {
  return DateTime.fromISO(iso, { zone: client.config.timezone }).toFormat("ccc d LLL yyyy HH:mm ZZZZ");
}

function alternativesText(client: ServableClient, alternatives: readonly Slot[]): string {
  return alternatives.length > 0 ? ` Free nearby: ${alternatives.map((slot) => local(client, slot.start)).join('; ')}.` : '';
}

/** A provider failure as the dashboard hears it: the change was not made; whether a retry can help. */
function providerFailure(error: unknown): never {
  if (error instanceof ProviderError) {
    if (error.retryable || error.ambiguous) {
      throw new AppError('service_unavailable', `The calendar (${error.provider}) did not answer; nothing was changed. Try again in a moment.`, { 'retry-after': '5' });
    }
    throw new AppError('provider_error', `The calendar (${error.provider}) refused the change (${error.status ?? 'no status'}); nothing was changed.`);
  }
  throw error;
}

export function createAppointmentChangesService(deps: { tenancy: Tenancy; adapters: ClientAdapters }) {
  const audited = async (client: ServableClient, actor: ChangeActor, action: 'appointment.cancel' | 'appointment.reschedule'): Promise<ChangeOptions> => {
    // Looked up first: the change's tenant transaction cannot see a platform admin's user row.
    const who = await resolveAuditActor(deps.tenancy, { userId: actor.userId, requestId: actor.requestId });
    return {
      alsoInTx: async (tx, before: AppointmentRow, after: AppointmentRow) => {
        const diff =
          action === 'appointment.cancel'
            ? { status: { from: before.status, to: after.status } }
            : { starts_at: { from: before.startsAt.toISOString(), to: after.startsAt.toISOString() }, ends_at: { from: before.endsAt.toISOString(), to: after.endsAt.toISOString() } };
        await writeAudit(tx, { ...who, action, clientId: client.id, targetId: after.id, diff });
      },
    };
  };

  async function view(clientId: string, id: string) {
    const row = await deps.tenancy.withTenant(clientId, (tx) => findAppointmentRow(tx, clientId, id));
    if (!row) throw new AppError('not_found', 'No such appointment');
    return appointmentView(row);
  }

  return {
    async cancel(actor: ChangeActor, record: ClientRecord, appointmentId: string) {
      const client = servable(record);
      const calendar = deps.adapters.calendarFor(client);
      const before = await calendar.findOne(appointmentId);
      if (!before) throw new AppError('not_found', 'No such appointment');
      if (before.status === 'cancelled') return { appointment: await view(client.id, before.id), changed: false };
      const outcome = await calendar.cancel(appointmentId, await audited(client, actor, 'appointment.cancel')).catch(providerFailure);
      switch (outcome.status) {
        case 'not_found':
          throw new AppError('not_found', 'No such appointment');
        case 'past':
          throw new AppError('appointment_in_past', `This appointment started ${local(client, outcome.appointment.start)}; past appointments are not cancelled`);
        case 'cancelled':
          return { appointment: await view(client.id, outcome.appointment.id), changed: true };
      }
    },

    async reschedule(actor: ChangeActor, record: ClientRecord, appointmentId: string, start: string) {
      const client = servable(record);
      const calendar = deps.adapters.calendarFor(client);
      const before = await calendar.findOne(appointmentId);
      if (!before) throw new AppError('not_found', 'No such appointment');
      const outcome = await calendar.reschedule(appointmentId, start, await audited(client, actor, 'appointment.reschedule')).catch(providerFailure);
      switch (outcome.status) {
        case 'not_found':
          throw new AppError('not_found', 'No such appointment');
        case 'is_cancelled':
          throw new AppError('appointment_cancelled', 'This appointment is cancelled; book a new one instead');
        case 'past':
          throw new AppError('appointment_in_past', `This appointment started ${local(client, outcome.appointment.start)}; past appointments are not rescheduled`);
        case 'booked':
          return { appointment: await view(client.id, outcome.appointment.id), changed: outcome.appointment.start !== before.start };
        case 'slot_taken':
          throw new AppError('slot_taken', `That time is already booked or busy in the calendar.${alternativesText(client, outcome.alternatives)}`);
        case 'outside_hours':
          throw new AppError('outside_hours', `That time is outside business hours or on a holiday.${alternativesText(client, outcome.alternatives)}`);
        case 'invalid_time': {
          const at = DateTime.fromISO(start, { zone: client.config.timezone });
          const why = !at.isValid
            ? 'start: not a date-time (ISO-8601, e.g. 2026-12-03T10:30)'
            : at.toMillis() <= Date.now()
              ? 'start: that time has passed'
              : 'start: not a bookable time (sooner than the minimum notice, beyond the booking horizon, or not on a slot boundary)';
          throw new AppError('invalid_time', `${why}.${alternativesText(client, outcome.alternatives)}`);
        }
      }
    },

    /** The day's free slots in the client's timezone (for a reschedule picker). */
    async freeSlots(record: ClientRecord, date: string): Promise<FreeSlotsView> {
      const client = servable(record);
      const timezone = client.config.timezone;
      const day = DateTime.fromISO(date, { zone: timezone }).startOf('day');
      if (!day.isValid) throw new AppError('invalid_payload', 'date: not a day (YYYY-MM-DD)');
      const slots = await deps.adapters
        .calendarFor(client)
        .findSlots({ from: day.toJSDate(), days: 1, limit: SLOTS_PER_DAY })
        .catch(providerFailure);
      return { timezone, date, slots: slots.map((slot) => ({ start: slot.start, end: slot.end })) };
    },
  };
}
