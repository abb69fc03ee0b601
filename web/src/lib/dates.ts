/**
 * Calendar dates (YYYY-MM-DD) in a client's timezone: the API reads a date as that day in the
 * client's zone, and a `to` date includes its whole day, so ranges here are inclusive.
 */

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** A real calendar date written YYYY-MM-DD (2025-02-31 is not). */
export function isDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included. */
export function daysInRange(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

export interface DateRange {
  from: string;
  to: string;
}

/** The same number of days right before `range`. */
export function previousPeriod(range: DateRange): DateRange {
  const length = daysInRange(range.from, range.to);
  return { from: addDays(range.from, -length), to: addDays(range.from, -1) };
}

/** The last `days` days ending today (in `timeZone`). */
export function lastDays(days: number, timeZone: string, now: Date = new Date()): DateRange {
  const to = todayIn(timeZone, now);
  return { from: addDays(to, -(days - 1)), to };
}

/** Every date of `range`, oldest first. */
export function datesOf(range: DateRange): string[] {
  return Array.from({ length: Math.max(0, daysInRange(range.from, range.to)) }, (_, i) => addDays(range.from, i));
}

/** A valid range from URL values, else the default; `from` after `to` is swapped, not refused. */
export function rangeFrom(search: { from?: string | undefined; to?: string | undefined }, fallback: DateRange): DateRange {
  if (!isDate(search.from) || !isDate(search.to)) return fallback;
  return search.from <= search.to ? { from: search.from, to: search.to } : { from: search.to, to: search.from };
}
