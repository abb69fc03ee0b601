/**
 * The internal calendar: the platform's own `appointments` table is the calendar. Busy time is the
 * booked rows; the row the service inserts is the event, so create/update/delete have nothing
 * else to write, and the partial unique index on (client, start) is what refuses a double booking.
 */
import type { CalendarProvider } from './calendar.ts';
import type { CalendarRepo } from './calendar.repo.ts';

export function createInternalCalendar(options: { repo: CalendarRepo; clientId: string; kind?: 'internal' | 'sandbox' }): CalendarProvider {
  const { repo, clientId } = options;
  return {
    kind: options.kind ?? 'internal',
    async busy(range) {
      const rows = await repo.booked(clientId, range);
      return rows.map((row) => ({ id: row.id, start: row.startsAt, end: row.endsAt }));
    },
    async createEvent() {
      return undefined;
    },
    async findEvent() {
      return undefined;
    },
    async updateEvent() {
      return undefined;
    },
    async deleteEvent() {},
  };
}
