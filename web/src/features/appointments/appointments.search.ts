import { compact, oneOf, text } from '../../lib/search.ts';

export const WHEN = ['upcoming', 'past'] as const;
export const APPOINTMENT_STATUSES = ['booked', 'cancelled'] as const;

export interface AppointmentsSearch {
  when?: (typeof WHEN)[number] | undefined;
  status?: (typeof APPOINTMENT_STATUSES)[number] | undefined;
  cursor?: string | undefined;
}

export const parseAppointmentsSearch = (raw: Record<string, unknown>): AppointmentsSearch =>
  compact({ when: oneOf(raw.when, WHEN), status: oneOf(raw.status, APPOINTMENT_STATUSES), cursor: text(raw.cursor, 1000) });
