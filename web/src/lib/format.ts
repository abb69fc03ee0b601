/** How numbers, durations and times read on the dashboard. Times show in the client's timezone. */

const integer = new Intl.NumberFormat('en-US');

export const formatCount = (n: number): string => integer.format(n);

/** A count and its noun: (1, 'call') → "1 call", (1200, 'call') → "1,200 calls"; `many` for an irregular plural. */
export function formatCountOf(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** 0.4567 → "45.7%"; no denominator → "–". */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '–';
  const percent = Math.round(ratio * 1000) / 10;
  return Number.isInteger(percent) ? `${percent}%` : `${percent.toFixed(1)}%`;
}

/** 95_000 → "1m 35s"; under a minute "42s"; null → "–". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return minutes > 0 ? `${minutes}m ${String(seconds).padStart(2, '0')}s` : `${seconds}s`;
}

/** "Mar 4, 2:05 PM" in `timeZone` (with the year when it is not this year's). */
export function formatDateTime(iso: string | null, timeZone: string, now: Date = new Date()): string {
  if (iso === null) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '–';
  const year = (d: Date) => new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(d);
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    month: 'short',
    day: 'numeric',
    ...(year(date) !== year(now) ? { year: 'numeric' } : {}),
    hour: 'numeric',
    minute: '2-digit',
  }).format(date);
}

/** "Mon, Mar 4" for a YYYY-MM-DD date. */
export function formatDay(date: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' }).format(new Date(`${date}T00:00:00Z`));
}

/** "+12%", "−3%", "no change", or null when there is nothing to compare with. */
export function formatChange(current: number, previous: number): string | null {
  if (previous === 0) return current === 0 ? 'no change' : null;
  const change = Math.round(((current - previous) / previous) * 100);
  if (change === 0) return 'no change';
  return change > 0 ? `+${change}%` : `−${Math.abs(change)}%`;
}

/** "+14155550142" → "+1 415-555-0142" for North American numbers; others unchanged. */
export function formatPhone(e164: string | null): string {
  if (e164 === null || e164 === '') return '–';
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return nanp ? `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}` : e164;
}

/** snake_case codes as words: "no_answer" → "No answer". */
export function humanize(code: string | null): string {
  if (code === null || code === '') return '–';
  const words = code.replaceAll('_', ' ').replaceAll('-', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
