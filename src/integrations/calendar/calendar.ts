/**
 * The calendar capability: one small interface per provider (internal appointment book, Zoho
 * Calendar), chosen per client by `calendarProviderFor`'s exhaustive switch in calendar.service.ts.
 */
import type { TimeRange } from './slots.ts';

/** `sandbox`: a test client's Zoho calendar without a stand-in, kept in our own book (provider-endpoint.ts). */
export type CalendarKind = 'internal' | 'zoho' | 'sandbox';

/** A busy interval; `id` (appointment id or provider event id) lets a reschedule ignore its own event. */
export interface BusyInterval extends TimeRange {
  id?: string;
}

/** What an appointment looks like in the provider's calendar. */
export interface CalendarEventData {
  /** Our appointment id; written into the event as `ref=…` so an ambiguous create can be found again. */
  ref: string;
  start: Date;
  end: Date;
  /** IANA zone the event is shown in. */
  timezone: string;
  title: string;
  description: string;
}

export interface ProviderEventRef {
  eventId: string;
  /** Zoho's optimistic-lock version; required to update or delete. */
  etag?: string | undefined;
}

export interface CalendarProvider {
  readonly kind: CalendarKind;
  /** Busy time overlapping the range, including appointments we booked. */
  busy(range: TimeRange): Promise<BusyInterval[]>;
  /** Undefined when the appointment row itself is the event (internal calendar). */
  createEvent(event: CalendarEventData): Promise<ProviderEventRef | undefined>;
  /** The event created earlier for `event.ref`, if any: used after an ambiguous create. */
  findEvent(event: CalendarEventData): Promise<ProviderEventRef | undefined>;
  updateEvent(ref: ProviderEventRef, event: CalendarEventData): Promise<ProviderEventRef | undefined>;
  /** Deleting an event that is already gone succeeds. */
  deleteEvent(ref: ProviderEventRef): Promise<void>;
}
