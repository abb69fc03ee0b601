/**
 * The `appointments` rows of the calendar capability. Every query runs
 * inside `withTenant`, so row-level security scopes it to the client even without the WHERE.
 */
import { and, asc, eq, gt, gte, lt } from 'drizzle-orm';
import { appointments } from '../../platform/db/schema.ts';
import type { Tx } from '../../platform/db/database.ts';
import type { Tenancy } from '../../platform/db/tenancy.ts';
import type { CalendarKind } from './calendar.ts';
import type { TimeRange } from './slots.ts';

export type AppointmentRow = typeof appointments.$inferSelect;

/** More work for the same transaction as the change (the domain event it causes). */
export type InSameTx = (tx: Tx, row: AppointmentRow) => Promise<unknown>;

export interface NewAppointment {
  callId: string | null;
  customerId: string | null;
  startsAt: Date;
  endsAt: Date;
  provider: CalendarKind;
  customerName: string;
  customerPhone: string | null;
  customerEmail: string | null;
  reason: string | null;
  idempotencyKey: string;
}


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createCalendarRepo(tenancy: Tenancy) {
  return {
    async findByKey(clientId: string, idempotencyKey: string): Promise<AppointmentRow | undefined> {
      const [row] = await tenancy.withTenant(clientId, (tx) =>
        tx.select().from(appointments).where(and(eq(appointments.clientId, clientId), eq(appointments.idempotencyKey, idempotencyKey))),
      );
      return row;
    },

    /** Another client's appointment, or an id that is not a uuid, reads as not found. */
    async get(clientId: string, id: string): Promise<AppointmentRow | undefined> {
      if (!UUID.test(id)) return undefined;
      const [row] = await tenancy.withTenant(clientId, (tx) =>
        tx.select().from(appointments).where(and(eq(appointments.clientId, clientId), eq(appointments.id, id))),
      );
      return row;
    },

    /**
     * Inserts a booked appointment. Undefined when a unique index refused it: the same key (a
     * concurrent duplicate of this booking) or the same start already booked (slot taken).
     */
    async insertBooked(clientId: string, values: NewAppointment, then?: InSameTx): Promise<AppointmentRow | undefined> {
      return tenancy.withTenant(clientId, async (tx) => {
        const [row] = await tx
          .insert(appointments)
          .values({ ...values, clientId, status: 'booked' })
          .onConflictDoNothing()
          .returning();
        if (row) await then?.(tx, row);
        return row;
      });
    },

    async setProviderEvent(clientId: string, id: string, eventId: string, etag: string | undefined, then?: InSameTx): Promise<AppointmentRow | undefined> {
      return tenancy.withTenant(clientId, async (tx) => {
        const [row] = await tx
          .update(appointments)
          .set({ providerEventId: eventId, providerEtag: etag ?? null, updatedAt: new Date() })
          .where(and(eq(appointments.clientId, clientId), eq(appointments.id, id)))
          .returning();
        if (row) await then?.(tx, row);
        return row;
      });
    },

    /** Removes a reservation whose provider event could not be created, freeing the slot. */
    async deleteReservation(clientId: string, id: string): Promise<void> {
      await tenancy.withTenant(clientId, (tx) =>
        tx.delete(appointments).where(and(eq(appointments.clientId, clientId), eq(appointments.id, id))),
      );
    },

    /**
     * Marks an appointment cancelled and retires its idempotency key (suffixing it), so the same
     * call may book that slot again later without being handed the cancelled booking.
     */
    async cancel(clientId: string, row: AppointmentRow, then?: InSameTx): Promise<AppointmentRow | undefined> {
      return tenancy.withTenant(clientId, async (tx) => {
        const [updated] = await tx
          .update(appointments)
          .set({ status: 'cancelled', idempotencyKey: `${row.idempotencyKey}#cancelled:${row.id}`, updatedAt: new Date() })
          .where(and(eq(appointments.clientId, clientId), eq(appointments.id, row.id), eq(appointments.status, 'booked')))
          .returning();
        if (updated) await then?.(tx, updated);
        return updated;
      });
    },

    /** Moves a booked appointment; undefined when the new start is already booked or it is no longer booked. */
    async move(clientId: string, id: string, range: TimeRange, then?: InSameTx): Promise<AppointmentRow | undefined> {
      const [row] = await tenancy
        .withTenant(clientId, async (tx) => {
        const taken = await tx
          .select({ id: appointments.id })
          .from(appointments)
          .where(and(eq(appointments.clientId, clientId), eq(appointments.startsAt, range.start), eq(appointments.status, 'booked')));
        if (taken.some((t) => t.id !== id)) return [];
        const moved = await tx
          .update(appointments)
          .set({ startsAt: range.start, endsAt: range.end, updatedAt: new Date() })
          .where(and(eq(appointments.clientId, clientId), eq(appointments.id, id), eq(appointments.status, 'booked')))
          .returning();
        if (moved[0]) await then?.(tx, moved[0]);
        return moved;
        })
        // A concurrent booking of the new start trips the partial unique index: the slot is taken.
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) return [];
          throw error;
        });
      return row;
    },

    /** Records the provider's side of a change: its new etag (when it gave one), and `then`. */
    async confirmProviderChange(clientId: string, id: string, etag: string | undefined, then?: InSameTx): Promise<void> {
      await tenancy.withTenant(clientId, async (tx) => {
        const [row] = await tx
          .update(appointments)
          .set({ ...(etag !== undefined ? { providerEtag: etag } : {}), updatedAt: new Date() })
          .where(and(eq(appointments.clientId, clientId), eq(appointments.id, id)))
          .returning();
        if (row) await then?.(tx, row);
      });
    },

    /** Booked appointments overlapping the range. */
    async booked(clientId: string, range: TimeRange): Promise<AppointmentRow[]> {
      return tenancy.withTenant(clientId, (tx) =>
        tx
          .select()
          .from(appointments)
          .where(
            and(
              eq(appointments.clientId, clientId),
              eq(appointments.status, 'booked'),
              lt(appointments.startsAt, range.end),
              gt(appointments.endsAt, range.start),
            ),
          )
          .orderBy(asc(appointments.startsAt)),
      );
    },

    async upcomingByPhone(clientId: string, phone: string, now: Date): Promise<AppointmentRow[]> {
      return tenancy.withTenant(clientId, (tx) =>
        tx
          .select()
          .from(appointments)
          .where(
            and(
              eq(appointments.clientId, clientId),
              eq(appointments.customerPhone, phone),
              eq(appointments.status, 'booked'),
              gte(appointments.startsAt, now),
            ),
          )
          .orderBy(asc(appointments.startsAt))
          .limit(20),
      );
    },
  };
}

export type CalendarRepo = ReturnType<typeof createCalendarRepo>;

function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    if ((current as { code?: unknown }).code === '23505') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
