/**
 * Zoho Calendar API v1 for one client's calendar. Write payloads travel as a JSON string in the
 * `eventdata` query parameter (no body). Zoho offers no idempotency key, so every event carries
 * `ref=<appointment id>` in its description: after an ambiguous create the service finds it again
 * by listing the slot instead of creating a second event.
 */
import { DateTime } from 'luxon';
import { ProviderError, type ProviderContext } from '../../platform/provider-http.ts';
import { zohoApiRequest, zohoErrorCode, type ZohoApiResponse } from '../zoho/zoho-api.ts';
import type { ZohoTokenSource } from '../zoho/zoho-oauth.ts';
import type { BusyInterval, CalendarEventData, CalendarProvider, ProviderEventRef } from './calendar.ts';
import type { TimeRange } from './slots.ts';

export interface ZohoCalendarOptions {
  ctx: ProviderContext;
  tokens: ZohoTokenSource;
  clientId: string;
  calendarId: string;
  /** Owner of the calendar; free/busy is per user. Without it busy time comes from the event list. */
  userEmail?: string | undefined;
  /** From `zohoCalendarBaseUrl`, e.g. `https://calendar.zoho.com/api/v1`. */
  baseUrl: string;
  /** Client zone: date-only (all-day) values are read in it. */
  timezone: string;
  timeoutMs?: number;
}

/** Zoho rejects ranges over 31 days. */
const MAX_RANGE_DAYS = 30;

export function formatZohoUtc(date: Date): string {
  return DateTime.fromJSDate(date, { zone: 'utc' }).toFormat("yyyyMMdd'T'HHmmss'Z'");
}

/**
 * Parses Zoho's three date shapes: `yyyyMMdd` (all-day, in `zone`), `yyyyMMdd'T'HHmmss'Z'`, and
 * `yyyyMMdd'T'HHmmss±HHMM`. A date-only value is returned as its whole local day.
 */
export function parseZohoDate(value: string, zone: string): { start: Date; endOfDay?: Date } | undefined {
  const dateOnly = /^(\d{8})Z?$/.exec(value);
  if (dateOnly?.[1]) {
    const day = DateTime.fromFormat(dateOnly[1], 'yyyyMMdd', { zone });
    return day.isValid ? { start: day.toJSDate(), endOfDay: day.plus({ days: 1 }).toJSDate() } : undefined;
  }
  let parsed: DateTime;
  if (/Z$/.test(value)) parsed = DateTime.fromFormat(value.slice(0, -1), "yyyyMMdd'T'HHmmss", { zone: 'utc' });
  else if (/[+-]\d{4}$/.test(value)) parsed = DateTime.fromFormat(value, "yyyyMMdd'T'HHmmssZZZ", { setZone: true });
  else parsed = DateTime.fromFormat(value, "yyyyMMdd'T'HHmmss", { zone });
  return parsed.isValid ? { start: parsed.toJSDate() } : undefined;
}

/**
 * A start/end pair as a busy interval. Date-only values block whole local days through the end
 * date: Zoho's all-day end may be inclusive or exclusive, and over-blocking never double-books.
 */
function busyFrom(startRaw: unknown, endRaw: unknown, zone: string, id?: string): BusyInterval | undefined {
  if (typeof startRaw !== 'string' || typeof endRaw !== 'string') return undefined;
  const start = parseZohoDate(startRaw, zone);
  const end = parseZohoDate(endRaw, zone);
  if (!start || !end) return undefined;
  const interval: BusyInterval = { start: start.start, end: end.endOfDay ?? end.start };
  if (interval.end <= interval.start) interval.end = start.endOfDay ?? interval.start;
  return id === undefined ? interval : { ...interval, id };
}

function chunks(range: TimeRange): TimeRange[] {
  const out: TimeRange[] = [];
  for (let start = range.start.getTime(); start < range.end.getTime(); start += MAX_RANGE_DAYS * 86_400_000) {
    out.push({ start: new Date(start), end: new Date(Math.min(range.end.getTime(), start + MAX_RANGE_DAYS * 86_400_000)) });
  }
  return out;
}

type ZohoEvent = {
  uid?: unknown;
  etag?: unknown;
  title?: unknown;
  description?: unknown;
  location?: unknown;
  isallday?: unknown;
  dateandtime?: { start?: unknown; end?: unknown; timezone?: unknown };
};

function eventsOf(json: unknown): ZohoEvent[] {
  const events = (json as { events?: unknown } | undefined)?.events;
  return Array.isArray(events) ? (events as ZohoEvent[]) : [];
}

function refOf(event: ZohoEvent): ProviderEventRef | undefined {
  if (typeof event.uid !== 'string') return undefined;
  const etag = typeof event.etag === 'string' || typeof event.etag === 'number' ? String(event.etag) : undefined;
  return { eventId: event.uid, etag };
}

/** Zoho documents etag as a number in eventdata; keep it a number when it is one. */
function etagValue(etag: string | undefined): string | number | undefined {
  return etag !== undefined && /^\d{1,15}$/.test(etag) ? Number(etag) : etag;
}

export function createZohoCalendar(options: ZohoCalendarOptions): CalendarProvider {
  const { ctx, tokens, clientId, timezone } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const calendarUrl = `${base}/calendars/${encodeURIComponent(options.calendarId)}`;
  const timeoutMs = options.timeoutMs ?? 5_000;

  const call = (operation: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, extra: { headers?: Record<string, string>; idempotent?: boolean } = {}) =>
    zohoApiRequest(ctx, tokens, {
      clientId,
      provider: 'zoho_calendar',
      operation,
      url,
      method,
      timeoutMs,
      idempotent: extra.idempotent ?? method === 'GET',
      ...(extra.headers ? { headers: extra.headers } : {}),
    });

  const failure = (operation: string, response: ZohoApiResponse, idempotent: boolean) => {
    const code = zohoErrorCode(response.json) ?? `http_${response.status}`;
    const serverError = response.status >= 500;
    const retryAfter = Number(response.headers.get('retry-after'));
    return new ProviderError({
      provider: 'zoho_calendar',
      operation,
      message: `Zoho Calendar ${operation} failed with HTTP ${response.status} (${code})`,
      // 429 was refused before processing. A 5xx on a write may have been applied: reconcile, don't resend.
      retryable: response.status === 429 || (serverError && idempotent),
      ambiguous: serverError && !idempotent,
      status: response.status,
      code,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    });
  };

  async function listEvents(range: TimeRange, withDescriptions: boolean): Promise<ZohoEvent[]> {
    const all: ZohoEvent[] = [];
    for (const chunk of chunks(range)) {
      const query = new URLSearchParams({ range: JSON.stringify({ start: formatZohoUtc(chunk.start), end: formatZohoUtc(chunk.end) }) });
      const response = await call('events_list', 'GET', `${calendarUrl}/events?${query.toString()}`, {
        // Descriptions (where `ref=` lives) only come with the "large" representation.
        ...(withDescriptions ? { headers: { accept: 'application/json+large' } } : {}),
      });
      if (!response.ok) throw failure('events_list', response, true);
      all.push(...eventsOf(response.json));
    }
    return all;
  }

  async function busyFromEvents(range: TimeRange): Promise<BusyInterval[]> {
    const events = await listEvents(range, false);
    return events.flatMap((event) => {
      const zone = typeof event.dateandtime?.timezone === 'string' ? event.dateandtime.timezone : timezone;
      const interval = busyFrom(event.dateandtime?.start, event.dateandtime?.end, zone, typeof event.uid === 'string' ? event.uid : undefined);
      return interval ? [interval] : [];
    });
  }

  /** Undefined when Zoho has no free/busy for the user (`fb_not_enabled`, `NODATA`): that is not "free". */
  async function freeBusy(range: TimeRange, userEmail: string): Promise<BusyInterval[] | undefined> {
    const query = new URLSearchParams({ uemail: userEmail, sdate: formatZohoUtc(range.start), edate: formatZohoUtc(range.end), ftype: 'eventbased' });
    const response = await call('freebusy', 'GET', `${base}/calendars/freebusy?${query.toString()}`);
    if (!response.ok) throw failure('freebusy', response, true);
    const body = response.json as { freebusy?: unknown; fb_not_enabled?: unknown; NODATA?: unknown } | undefined;
    if (!body || body.fb_not_enabled !== undefined || body.NODATA !== undefined || !Array.isArray(body.freebusy)) return undefined;
    return (body.freebusy as { fbtype?: unknown; startTime?: unknown; endTime?: unknown }[]).flatMap((entry) => {
      if (entry.fbtype !== 'busy') return [];
      const interval = busyFrom(entry.startTime, entry.endTime, timezone);
      return interval ? [interval] : [];
    });
  }

  async function getEvent(eventId: string): Promise<ZohoEvent | undefined> {
    const response = await call('event_get', 'GET', `${calendarUrl}/events/${encodeURIComponent(eventId)}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw failure('event_get', response, true);
    return eventsOf(response.json)[0];
  }

  const eventData = (event: CalendarEventData) => ({
    title: event.title,
    dateandtime: { timezone: event.timezone, start: formatZohoUtc(event.start), end: formatZohoUtc(event.end) },
    isallday: false,
    description: `${event.description}\nref=${event.ref}`.slice(0, 2000),
    // Confirmations are ours to send; Zoho's own invitation mails stay off.
    notify_attendee: 0,
  });

  return {
    kind: 'zoho',

    async busy(range) {
      const busy: BusyInterval[] = [];
      for (const chunk of chunks(range)) {
        const fromFreeBusy = options.userEmail ? await freeBusy(chunk, options.userEmail) : undefined;
        busy.push(...(fromFreeBusy ?? (await busyFromEvents(chunk))));
      }
      return busy;
    },

    async createEvent(event) {
      const query = new URLSearchParams({ eventdata: JSON.stringify(eventData(event)) });
      const response = await call('event_create', 'POST', `${calendarUrl}/events?${query.toString()}`);
      if (!response.ok) throw failure('event_create', response, false);
      const created = eventsOf(response.json)[0];
      const ref = created ? refOf(created) : undefined;
      if (!ref) {
        throw new ProviderError({
          provider: 'zoho_calendar',
          operation: 'event_create',
          message: 'Zoho Calendar create answered without an event uid',
          retryable: false,
          ambiguous: true,
          status: response.status,
          code: 'invalid_response',
        });
      }
      return ref;
    },

    async findEvent(event) {
      const events = await listEvents({ start: event.start, end: event.end }, true);
      const marker = `ref=${event.ref}`;
      const found = events.find((e) => typeof e.description === 'string' && e.description.split(/\s+/).includes(marker));
      return found ? refOf(found) : undefined;
    },

    async updateEvent(ref, event) {
      // Update is a full replace guarded by the latest etag: re-read, and on a stale etag re-read once more.
      for (let attempt = 0; ; attempt++) {
        const current = await getEvent(ref.eventId);
        if (!current) {
          throw new ProviderError({ provider: 'zoho_calendar', operation: 'event_update', message: 'Zoho event no longer exists', retryable: false, status: 404, code: 'not_found' });
        }
        const etag = refOf(current)?.etag ?? ref.etag;
        const data = { ...eventData(event), ...(typeof current.location === 'string' ? { location: current.location } : {}), etag: etagValue(etag) };
        const query = new URLSearchParams({ eventdata: JSON.stringify(data) });
        const response = await call('event_update', 'PUT', `${calendarUrl}/events/${encodeURIComponent(ref.eventId)}?${query.toString()}`, { idempotent: true });
        if (response.ok) {
          const updated = eventsOf(response.json)[0];
          return (updated ? refOf(updated) : undefined) ?? { eventId: ref.eventId, etag };
        }
        const staleEtag = (response.status === 409 || response.status === 412 || response.status === 400) && /etag/i.test(response.text);
        if (staleEtag && attempt === 0) continue;
        throw failure('event_update', response, true);
      }
    },

    async deleteEvent(ref) {
      // A fresh etag first (Zoho refuses a stale one); an event already gone counts as deleted.
      const current = await getEvent(ref.eventId);
      if (!current) return;
      const etag = refOf(current)?.etag ?? ref.etag;
      const response = await call('event_delete', 'DELETE', `${calendarUrl}/events/${encodeURIComponent(ref.eventId)}`, {
        headers: etag !== undefined ? { etag } : {},
        idempotent: true,
      });
      if (response.ok || response.status === 404) return;
      throw failure('event_delete', response, true);
    },
  };
}
