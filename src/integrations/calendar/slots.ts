/**
 * Bookable slots from a client's business hours, holidays and time zone, as pure functions.
 * Every local time is built with luxon in the client's zone, so DST days have the right UTC
 * offsets (a 09:00-17:00 day is still eight hours on the day the clocks change).
 */
import { DateTime } from 'luxon';
import { weekdays, type Weekday } from '../../clients/client.schema.ts';

export interface TimeRange {
  start: Date;
  end: Date;
}

/** A bookable slot as ISO-8601 strings carrying the client's UTC offset, e.g. `2026-03-09T09:00:00-04:00`. */
export interface Slot {
  start: string;
  end: string;
}

export const timesOfDay = ['morning', 'afternoon', 'evening', 'any'] as const;
export type TimeOfDay = (typeof timesOfDay)[number];

export interface SlotRules {
  timezone: string;
  /** `{ fri: ['09:00-12:00', '13:00-17:00'] }`; a missing or empty day is closed. */
  businessHours: Readonly<Partial<Record<Weekday, readonly string[]>>>;
  /** Closed dates (YYYY-MM-DD) in the client's zone. */
  holidays: readonly string[];
  appointmentMinutes: number;
  /** Kept free after every busy interval, ours or the provider's. */
  bufferMinutes: number;
  minNoticeMinutes: number;
  /** Slots are offered on today's local date and the next `horizonDays - 1` dates. */
  horizonDays: number;
}

export interface SlotRulesSource {
  readonly timezone: string;
  readonly business_hours: Readonly<Partial<Record<Weekday, readonly string[] | undefined>>>;
  readonly holidays: readonly string[];
  readonly calendar: {
    readonly appointment_minutes: number;
    readonly buffer_minutes: number;
    readonly min_notice_minutes: number;
    readonly horizon_days: number;
  };
}

export function slotRulesFromConfig(config: SlotRulesSource): SlotRules {
  const businessHours: Partial<Record<Weekday, readonly string[]>> = {};
  for (const day of weekdays) {
    const ranges = config.business_hours[day];
    if (ranges) businessHours[day] = ranges;
  }
  return {
    timezone: config.timezone,
    businessHours,
    holidays: config.holidays,
    appointmentMinutes: config.calendar.appointment_minutes,
    bufferMinutes: config.calendar.buffer_minutes,
    minNoticeMinutes: config.calendar.min_notice_minutes,
    horizonDays: config.calendar.horizon_days,
  };
}

/** The instant local slots stop being offered: midnight after the last horizon day. */
export function horizonEnd(rules: SlotRules, now: Date): Date {
  return DateTime.fromJSDate(now, { zone: rules.timezone }).startOf('day').plus({ days: rules.horizonDays }).toJSDate();
}

function localTime(day: DateTime, hhmm: string): DateTime {
  if (hhmm === '24:00') return day.plus({ days: 1 }).startOf('day');
  const [hour = 0, minute = 0] = hhmm.split(':').map(Number);
  // fromObject resolves wall-clock time in the zone (a time skipped by DST moves forward).
  return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone: day.zone });
}

/** Business-hour ranges of one local date (empty on holidays and closed days). */
function openRanges(rules: SlotRules, day: DateTime): TimeRange[] {
  const date = day.toISODate();
  if (date === null || rules.holidays.includes(date)) return [];
  const key = weekdays[day.weekday - 1];
  const ranges = key ? (rules.businessHours[key] ?? []) : [];
  return ranges.map((range) => {
    const [from = '00:00', to = '00:00'] = range.split('-');
    return { start: localTime(day, from).toJSDate(), end: localTime(day, to).toJSDate() };
  });
}

/** The slot grid of one local date: each open range cut into appointment-length slots from its start. */
function dayGrid(rules: SlotRules, day: DateTime): TimeRange[] {
  const lengthMs = rules.appointmentMinutes * 60_000;
  const grid: TimeRange[] = [];
  for (const range of openRanges(rules, day)) {
    for (let start = range.start.getTime(); start + lengthMs <= range.end.getTime(); start += lengthMs) {
      grid.push({ start: new Date(start), end: new Date(start + lengthMs) });
    }
  }
  return grid;
}

/** Whether a slot, with the buffer kept after it and after every busy interval, touches any busy interval. */
export function conflictsWithBusy(slot: TimeRange, busy: readonly TimeRange[], bufferMinutes: number): boolean {
  const bufferMs = bufferMinutes * 60_000;
  const start = slot.start.getTime();
  const end = slot.end.getTime();
  return busy.some((b) => start < b.end.getTime() + bufferMs && b.start.getTime() < end + bufferMs);
}

export interface SlotQuery {
  now: Date;
  busy?: readonly TimeRange[];
  /** Earliest slot start (default now); min notice still applies. */
  from?: Date;
  /** Latest slot start, exclusive (default the horizon end). */
  to?: Date;
}

/** Free slots, earliest first. */
export function computeSlots(rules: SlotRules, query: SlotQuery): TimeRange[] {
  const earliest = Math.max(query.from?.getTime() ?? 0, query.now.getTime() + rules.minNoticeMinutes * 60_000);
  const latest = Math.min(query.to?.getTime() ?? Number.POSITIVE_INFINITY, horizonEnd(rules, query.now).getTime());
  const busy = query.busy ?? [];
  const slots: TimeRange[] = [];
  let day = DateTime.fromMillis(earliest, { zone: rules.timezone }).startOf('day');
  while (day.toMillis() < latest) {
    for (const slot of dayGrid(rules, day)) {
      const start = slot.start.getTime();
      if (start < earliest || start >= latest) continue;
      if (!conflictsWithBusy(slot, busy, rules.bufferMinutes)) slots.push(slot);
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return slots;
}

export type StartCheck = 'ok' | 'outside_hours' | 'invalid_time';

/**
 * Whether `start` may be booked, ignoring busy time: on the slot grid of an open day ('ok'),
 * outside business hours or on a holiday ('outside_hours'), or in the past, inside the minimum
 * notice, beyond the horizon or off the grid ('invalid_time'). Only grid starts are bookable, so
 * the (client, start) unique index is what stops two concurrent bookings of one slot.
 */
export function checkStart(rules: SlotRules, start: Date, now: Date): StartCheck {
  const day = DateTime.fromJSDate(start, { zone: rules.timezone }).startOf('day');
  const onGrid = dayGrid(rules, day).some((slot) => slot.start.getTime() === start.getTime());
  if (!onGrid) {
    const inHours = openRanges(rules, day).some((r) => start >= r.start && start < r.end);
    return inHours ? 'invalid_time' : 'outside_hours';
  }
  if (start.getTime() < now.getTime() + rules.minNoticeMinutes * 60_000) return 'invalid_time';
  if (start.getTime() >= horizonEnd(rules, now).getTime()) return 'invalid_time';
  return 'ok';
}

export function toSlot(range: TimeRange, timezone: string): Slot {
  const iso = (date: Date) => DateTime.fromJSDate(date, { zone: timezone }).toISO({ suppressMilliseconds: true }) ?? date.toISOString();
  return { start: iso(range.start), end: iso(range.end) };
}

export function fromSlot(slot: Slot): TimeRange {
  return { start: new Date(slot.start), end: new Date(slot.end) };
}

/** Morning before 12:00, afternoon 12:00-17:00, evening from 17:00, by the slot's local start. */
export function matchesTimeOfDay(start: Date, timezone: string, timeOfDay: TimeOfDay): boolean {
  if (timeOfDay === 'any') return true;
  const hour = DateTime.fromJSDate(start, { zone: timezone }).hour;
  switch (timeOfDay) {
    case 'morning':
      return hour < 12;
    case 'afternoon':
      return hour >= 12 && hour < 17;
    case 'evening':
      return hour >= 17;
  }
}

/**
 * Parses a requested start: an ISO-8601 date-time with an offset is an instant; one without an
 * offset is wall-clock time in the client's zone. Undefined when it is not a date-time.
 */
export function parseStart(input: string, timezone: string): Date | undefined {
  const trimmed = input.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(trimmed)) return undefined;
  const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(trimmed.slice(16));
  const parsed = hasOffset ? DateTime.fromISO(trimmed, { setZone: true }) : DateTime.fromISO(trimmed, { zone: timezone });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}

/** The `limit` free slots closest to `target`, in time order: what to offer when a request fails. */
export function nearestSlots(slots: readonly TimeRange[], target: Date, limit = 3): TimeRange[] {
  return [...slots]
    .sort((a, b) => Math.abs(a.start.getTime() - target.getTime()) - Math.abs(b.start.getTime() - target.getTime()))
    .slice(0, limit)
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}

/**
 * Slots as the agent says them: "today at 10 AM", "tomorrow at 2:30 PM", "Tuesday at 10 AM"
 * within the week, "Tuesday, March 17 at 10 AM" beyond it; joined with "or".
 */
export function speakSlots(slots: readonly Slot[], timezone: string, now: Date): string {
  const today = DateTime.fromJSDate(now, { zone: timezone }).startOf('day');
  const phrases = slots.map((slot) => {
    const start = DateTime.fromISO(slot.start, { zone: timezone, locale: 'en-US' });
    const days = Math.round(start.startOf('day').diff(today, 'days').days);
    const time = start.minute === 0 ? start.toFormat('h a') : start.toFormat('h:mm a');
    if (days === 0) return `today at ${time}`;
    if (days === 1) return `tomorrow at ${time}`;
    if (days > 1 && days < 7) return `${start.toFormat('cccc')} at ${time}`;
    return `${start.toFormat('cccc, LLLL d')} at ${time}`;
  });
  if (phrases.length <= 2) return phrases.join(' or ');
  return `${phrases.slice(0, -1).join(', ')}, or ${phrases.at(-1) ?? ''}`;
}
