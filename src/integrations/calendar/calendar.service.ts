/**
 * The calendar for one client: bookable slots, booking, cancelling and rescheduling, whichever
 * provider the client uses. Expected outcomes (slot taken, outside hours) are returned; provider
 * failures throw ProviderError. Every appointment is also a row in `appointments`, inserted before
 * the provider is called, so the unique indexes decide races and a retry finds the earlier attempt.
 */
import { randomUUID } from 'node:crypto';
import type { ResolvedClientConfig } from '../../clients/client.schema.ts';
import { defaultCountryOf } from '../../clients/client.schema.ts';
import type { DomainEventEmitter } from '../../core/domain-events.ts';
import { ensureCallStarted } from '../../calls/calls.service.ts';
import { toE164 } from '../../customers/phone.ts';
import { DateTime } from 'luxon';
import type { Tx } from '../../platform/db/database.ts';
import type { Tenancy } from '../../platform/db/tenancy.ts';
import { ProviderError, type ProviderContext } from '../../platform/provider-http.ts';
import type { KeyValueCache } from '../../platform/redis.ts';
import type { BusyInterval, CalendarEventData, CalendarKind } from './calendar.ts';
import { createCalendarRepo, type AppointmentRow, type InSameTx } from './calendar.repo.ts';
import { integrationHealthFor, readIntegrationHealth, type IntegrationHealth } from '../integration-health.ts';
import { calendarProviderFor } from './calendar-provider.ts';
import { singleFlight } from './single-flight.ts';
import { createSlotCache } from './slot-cache.ts';
import {
  checkStart,
  conflictsWithBusy,
  matchesTimeOfDay,
  nearestSlots,
  parseStart,
  slotRulesFromConfig,
  toSlot,
  type Slot,
  type SlotRules,
  type TimeOfDay,
  type TimeRange,
} from './slots.ts';

export type { Slot, TimeOfDay } from './slots.ts';
export type { IntegrationHealth } from '../integration-health.ts';
export type { AppointmentRow } from './calendar.repo.ts';

/** An appointment as the agent and the API see it; times carry the client's UTC offset. */
export interface Appointment {
  id: string;
  callId: string | null;
  start: string;
  end: string;
  status: 'booked' | 'cancelled';
  provider: CalendarKind;
  providerEventId: string | null;
  customerName: string | null;
  customerPhone: string | null;
  customerEmail: string | null;
  reason: string | null;
}

export interface FindSlotsInput {
  from?: Date;
  /** Local days from `from` (default: the rest of the horizon). */
  days?: number;
  timeOfDay?: TimeOfDay;
  /** Default 5. */
  limit?: number;
}

export interface BookInput {
  callId?: string;
  /** ISO-8601; without an offset it is wall-clock time in the client's zone. */
  start: string;
  name: string;
  phone?: string;
  email?: string;
  reason?: string;
  customerId?: string;
}

export type BookResult =
  | { status: 'booked'; appointment: Appointment }
  | { status: 'slot_taken' | 'outside_hours' | 'invalid_time'; alternatives: Slot[] };

/**
 * `past`: the appointment has already started, so it is history and stays as it is.
 * `is_cancelled`: a cancelled appointment is not moved back to life by a reschedule.
 */
export type RescheduleResult = BookResult | { status: 'not_found' } | { status: 'past' | 'is_cancelled'; appointment: Appointment };
export type CancelResult = { status: 'cancelled'; appointment: Appointment } | { status: 'not_found' } | { status: 'past'; appointment: Appointment };

export interface ChangeOptions {
  /**
   * More work in the transaction that records the change (the dashboard's audit entry), run only
   * by the one request that made it: a retry, a double click or a concurrent duplicate runs nothing.
   */
  alsoInTx?: (tx: Tx, before: AppointmentRow, after: AppointmentRow) => Promise<void>;
}

export interface CalendarService {
  readonly kind: CalendarKind;
  findSlots(input?: FindSlotsInput): Promise<Slot[]>;
  book(input: BookInput): Promise<BookResult>;
  cancel(appointmentId: string, options?: ChangeOptions): Promise<CancelResult>;
  reschedule(appointmentId: string, newStart: string, options?: ChangeOptions): Promise<RescheduleResult>;
  findUpcoming(input: { phone: string }): Promise<Appointment[]>;
  /** One appointment of this client; another client's, or a malformed id, is undefined. */
  findOne(appointmentId: string): Promise<Appointment | undefined>;
  /** Computes and caches the horizon's slots (called when a call starts, so the first question is fast). */
  warm(): Promise<void>;
  /** The calendar integration's health; `ok` when nothing was ever recorded. */
  getIntegrationStatus(): Promise<IntegrationHealth>;
}

export interface CalendarDeps {
  tenancy: Tenancy;
  /** Appointment changes emit appointment.booked / rescheduled / cancelled in their transaction. */
  events: DomainEventEmitter;
  cache: KeyValueCache;
  providerContext: ProviderContext;
  now?: () => Date;
  /** Per-request provider timeout; 5 s (the calendar budget) unless a test shortens it. */
  timeoutMs?: number;
}

export interface CalendarClient {
  id: string;
  config: ResolvedClientConfig;
}

const DEFAULT_LIMIT = 5;
const ALTERNATIVES = 3;

const iso = (date: Date) => date.toISOString();


export function calendarServiceFor(client: CalendarClient, deps: CalendarDeps): CalendarService {
  const clientId = client.id;
  const config = client.config;
  const now = deps.now ?? (() => new Date());
  const repo = createCalendarRepo(deps.tenancy);
  const provider = calendarProviderFor(client, deps, repo);
  const rules: SlotRules = slotRulesFromConfig(config);
  const timezone = rules.timezone;
  const health = integrationHealthFor(deps, clientId, 'calendar');
  const defaultCountry = defaultCountryOf(config);

  const toAppointment = (row: AppointmentRow): Appointment => ({
    id: row.id,
    callId: row.callId,
    start: toSlot({ start: row.startsAt, end: row.endsAt }, timezone).start,
    end: toSlot({ start: row.startsAt, end: row.endsAt }, timezone).end,
    status: row.status === 'cancelled' ? 'cancelled' : 'booked',
    provider: row.provider === 'zoho' || row.provider === 'sandbox' ? row.provider : 'internal',
    providerEventId: row.providerEventId,
    customerName: row.customerName,
    customerPhone: row.customerPhone,
    customerEmail: row.customerEmail,
    reason: row.reason,
  });

  /** E.164 when the number is valid, else as given: an appointment keeps what the caller said. */
  const normalizePhone = (phone: string | undefined): string | null => {
    if (!phone) return null;
    return toE164(phone, defaultCountry) ?? phone.trim();
  };

  /** `appointment.booked`, in the transaction that completes the booking (after its call's start). */
  const emitBooked: InSameTx = async (tx, row) => {
    if (row.callId) await ensureCallStarted(tx, deps.events, clientId, row.callId);
    await deps.events.emit(
      tx,
      clientId,
      'appointment.booked',
      { appointment_id: row.id, call_id: row.callId, starts_at: iso(row.startsAt), ends_at: iso(row.endsAt), provider: row.provider },
      { key: `appointment:${row.id}:booked` },
    );
  };

  /** Records integration_error for credentials only a person can fix, and ok again once calls succeed. */
  async function tracked<T>(work: () => Promise<T>): Promise<T> {
    if (provider.kind !== 'zoho') return work();
    try {
      const result = await work();
      await health.ok(provider.kind);
      return result;
    } catch (error) {
      await health.failed(provider.kind, error, 'reconnect the calendar for this client.');
      throw error;
    }
  }

  async function busyIn(range: TimeRange): Promise<BusyInterval[]> {
    const external = await tracked(() => provider.busy(range));
    if (provider.kind !== 'zoho') return external;
    // Our own rows too: a booking whose Zoho event is still being written is already busy.
    const own = await repo.booked(clientId, range);
    return [...external, ...own.map((row) => ({ id: row.id, start: row.startsAt, end: row.endsAt }))];
  }

  const slotCache = createSlotCache({ cache: deps.cache, clientId, providerKind: provider.kind, rules, now, busyIn });
  const openSlots = () => slotCache.open();

  async function alternativesNear(target: Date | undefined, excludeStart?: Date): Promise<Slot[]> {
    const slots = (await openSlots()).filter((s) => s.start.getTime() !== excludeStart?.getTime());
    const picked = target ? nearestSlots(slots, target, ALTERNATIVES) : slots.slice(0, ALTERNATIVES);
    return picked.map((s) => toSlot(s, timezone));
  }

  const invalidateSlots = () => slotCache.invalidate();

  const eventFor = (row: AppointmentRow): CalendarEventData => {
    const contact = [row.customerPhone, row.customerEmail].filter(Boolean).join(', ');
    return {
      ref: row.id,
      start: row.startsAt,
      end: row.endsAt,
      timezone,
      title: `${row.reason ?? 'Appointment'} - ${row.customerName ?? 'Caller'}`.slice(0, 200),
      description: [`Booked by the phone agent.`, contact ? `Contact: ${contact}` : '', row.reason ? `Reason: ${row.reason}` : '']
        .filter(Boolean)
        .join('\n'),
    };
  };

  /**
   * Writes the provider event for a reserved row. A definite failure frees the slot again; an
   * ambiguous one (timeout, 5xx) looks for the event by its ref before creating it once more.
   */
  async function ensureEvent(row: AppointmentRow): Promise<AppointmentRow> {
    if (provider.kind !== 'zoho' || row.providerEventId) return row;
    const event = eventFor(row);
    let created;
    try {
      created = await tracked(() => provider.createEvent(event));
    } catch (error) {
      if (error instanceof ProviderError && error.ambiguous) {
        // If this throws too, the row stays reserved without an event id; the next attempt with the
        // same call and slot comes back here through `book` and reconciles again.
        created = (await tracked(() => provider.findEvent(event))) ?? (await tracked(() => provider.createEvent(event)));
      } else {
        await repo.deleteReservation(clientId, row.id);
        await invalidateSlots();
        throw error;
      }
    }
    if (!created) return row;
    return (await repo.setProviderEvent(clientId, row.id, created.eventId, created.etag, emitBooked)) ?? row;
  }

  /** A row that already exists for this booking key: the same call asked for the same slot again. */
  async function resume(row: AppointmentRow): Promise<BookResult> {
    if (row.provider === 'zoho' && !row.providerEventId) {
      const found = await tracked(() => provider.findEvent(eventFor(row)));
      if (found) row = (await repo.setProviderEvent(clientId, row.id, found.eventId, found.etag, emitBooked)) ?? row;
      else row = await ensureEvent(row);
    }
    return { status: 'booked', appointment: toAppointment(row) };
  }

  async function bookOnce(input: BookInput, start: Date, key: string): Promise<BookResult> {
    const existing = await repo.findByKey(clientId, key);
    if (existing) return resume(existing);
    const end = new Date(start.getTime() + rules.appointmentMinutes * 60_000);
    const bufferMs = rules.bufferMinutes * 60_000;
    const busy = await busyIn({ start: new Date(start.getTime() - bufferMs), end: new Date(end.getTime() + bufferMs) });
    if (conflictsWithBusy({ start, end }, busy, rules.bufferMinutes)) {
      await invalidateSlots();
      return { status: 'slot_taken', alternatives: await alternativesNear(start, start) };
    }
    const row = await repo.insertBooked(clientId, {
      callId: input.callId ?? null,
      customerId: input.customerId ?? null,
      startsAt: start,
      endsAt: end,
      provider: provider.kind,
      customerName: input.name,
      customerPhone: normalizePhone(input.phone),
      customerEmail: input.email ?? null,
      reason: input.reason ?? null,
      idempotencyKey: key,
    }, provider.kind !== 'zoho' ? emitBooked : undefined);
    if (!row) {
      // Refused by a unique index: either this very booking committed first elsewhere, or the slot went.
      const winner = await repo.findByKey(clientId, key);
      if (winner) return resume(winner);
      await invalidateSlots();
      return { status: 'slot_taken', alternatives: await alternativesNear(start, start) };
    }
    await invalidateSlots();
    return { status: 'booked', appointment: toAppointment(await ensureEvent(row)) };
  }

  async function cancelOnce(appointmentId: string, options: ChangeOptions): Promise<CancelResult> {
    const row = await repo.get(clientId, appointmentId);
    if (!row) return { status: 'not_found' };
    if (row.status === 'cancelled') return { status: 'cancelled', appointment: toAppointment(row) };
    if (row.startsAt.getTime() <= now().getTime()) return { status: 'past', appointment: toAppointment(row) };
    if (row.provider === 'zoho' && row.providerEventId) {
      const eventId = row.providerEventId;
      await tracked(() => provider.deleteEvent({ eventId, etag: row.providerEtag ?? undefined }));
    }
    const cancelled = await repo.cancel(clientId, row, async (tx, after) => {
      const event = await deps.events.emit(tx, clientId, 'appointment.cancelled', { appointment_id: after.id, call_id: after.callId, starts_at: iso(after.startsAt) }, { key: `appointment:${after.id}:cancelled` });
      if (event) await options.alsoInTx?.(tx, row, after);
    });
    await invalidateSlots();
    // Undefined: another process cancelled it meanwhile; read what it left.
    const after = cancelled ?? (await repo.get(clientId, row.id)) ?? row;
    return { status: 'cancelled', appointment: toAppointment(after) };
  }

  async function rescheduleOnce(appointmentId: string, newStart: string, options: ChangeOptions): Promise<RescheduleResult> {
    const row = await repo.get(clientId, appointmentId);
    if (!row) return { status: 'not_found' };
    if (row.status !== 'booked') return { status: 'is_cancelled', appointment: toAppointment(row) };
    const start = parseStart(newStart, timezone);
    if (!start) return { status: 'invalid_time', alternatives: await alternativesNear(undefined) };
    if (start.getTime() === row.startsAt.getTime()) return { status: 'booked', appointment: toAppointment(row) };
    if (row.startsAt.getTime() <= now().getTime()) return { status: 'past', appointment: toAppointment(row) };
    const check = checkStart(rules, start, now());
    if (check !== 'ok') return { status: check, alternatives: await alternativesNear(start) };
    const end = new Date(start.getTime() + rules.appointmentMinutes * 60_000);
    const bufferMs = rules.bufferMinutes * 60_000;
    const busy = (await busyIn({ start: new Date(start.getTime() - bufferMs), end: new Date(end.getTime() + bufferMs) })).filter(
      (b) =>
        b.id !== row.id &&
        b.id !== (row.providerEventId ?? undefined) &&
        // Free/busy has no ids: the appointment's own interval is not a conflict with itself.
        !(b.id === undefined && b.start.getTime() === row.startsAt.getTime() && b.end.getTime() === row.endsAt.getTime()),
    );
    if (conflictsWithBusy({ start, end }, busy, rules.bufferMinutes)) {
      return { status: 'slot_taken', alternatives: await alternativesNear(start, start) };
    }
    const emitRescheduled: InSameTx = async (tx, after) => {
      const event = await deps.events.emit(
        tx,
        clientId,
        'appointment.rescheduled',
        { appointment_id: after.id, call_id: after.callId, starts_at: iso(after.startsAt), ends_at: iso(after.endsAt), previous_starts_at: iso(row.startsAt) },
        // Named by the state it moved from (its updated_at too): A→B, B→A, A→B again are three moves.
        { key: `appointment:${after.id}:rescheduled:${iso(row.startsAt)}>${iso(after.startsAt)}@${iso(row.updatedAt)}` },
      );
      if (event) await options.alsoInTx?.(tx, row, after);
    };
    // Our own book (internal, sandbox) is the calendar: the move is the change. With Zoho the change is done
    // once Zoho has it too (a failure there moves the row back).
    const moved = await repo.move(clientId, row.id, { start, end }, provider.kind !== 'zoho' ? emitRescheduled : undefined);
    if (!moved) return { status: 'slot_taken', alternatives: await alternativesNear(start, start) };
    await invalidateSlots();
    if (moved.provider === 'zoho' && moved.providerEventId) {
      const eventId = moved.providerEventId;
      try {
        const updated = await tracked(() => provider.updateEvent({ eventId, etag: moved.providerEtag ?? undefined }, eventFor(moved)));
        await repo.confirmProviderChange(clientId, moved.id, updated?.etag, emitRescheduled);
      } catch (error) {
        // Put the row back so our book and Zoho agree; the caller hears the provider failure.
        await repo.move(clientId, row.id, { start: row.startsAt, end: row.endsAt });
        await invalidateSlots();
        throw error;
      }
    }
    return { status: 'booked', appointment: toAppointment(moved) };
  }

  return {
    kind: provider.kind,

    async findSlots(input = {}) {
      const timeOfDay = input.timeOfDay ?? 'any';
      const from = input.from ?? now();
      const until =
        input.days !== undefined
          ? DateTime.fromJSDate(from, { zone: timezone }).startOf('day').plus({ days: input.days }).toJSDate()
          : undefined;
      const slots = (await openSlots()).filter(
        (s) => s.start >= from && (until === undefined || s.start < until) && matchesTimeOfDay(s.start, timezone, timeOfDay),
      );
      return slots.slice(0, input.limit ?? DEFAULT_LIMIT).map((s) => toSlot(s, timezone));
    },

    async book(input) {
      const at = now();
      const start = parseStart(input.start, timezone);
      if (!start) return { status: 'invalid_time', alternatives: await alternativesNear(undefined) };
      const check = checkStart(rules, start, at);
      if (check !== 'ok') return { status: check, alternatives: await alternativesNear(start) };
      // Same call + same start = same booking. Without a call id, the caller's number stands in.
      const phone = normalizePhone(input.phone);
      const owner = input.callId ? `call:${input.callId}` : phone ? `phone:${phone}` : `once:${randomUUID()}`;
      const key = `${owner}:${start.toISOString()}`;
      return singleFlight(`book:${clientId}:${key}`, () => bookOnce(input, start, key));
    },

    cancel(appointmentId, options = {}) {
      // One change per appointment at a time in this process (a double click joins the first);
      // across processes the row's state decides (repo.cancel only updates a booked row).
      return singleFlight(`cancel:${clientId}:${appointmentId}`, () => cancelOnce(appointmentId, options));
    },

    reschedule(appointmentId, newStart, options = {}) {
      return singleFlight(`reschedule:${clientId}:${appointmentId}:${newStart}`, () => rescheduleOnce(appointmentId, newStart, options));
    },

    async findOne(appointmentId) {
      const row = await repo.get(clientId, appointmentId);
      return row ? toAppointment(row) : undefined;
    },

    async findUpcoming({ phone }) {
      const normalized = normalizePhone(phone);
      if (!normalized) return [];
      const rows = await repo.upcomingByPhone(clientId, normalized, now());
      return rows.map(toAppointment);
    },

    async warm() {
      await slotCache.horizon(true);
    },

    async getIntegrationStatus() {
      return (
        (await readIntegrationHealth(deps.tenancy, clientId, 'calendar')) ?? {
          capability: 'calendar',
          provider: provider.kind,
          status: 'ok',
          detail: null,
          updatedAt: null,
        }
      );
    },
  };
}
