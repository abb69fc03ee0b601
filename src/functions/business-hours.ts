/**
 * Business hours as the agent says them, in the client's timezone.
 */
import { DateTime } from 'luxon';
import type { ResolvedClientConfig } from '../clients/client.schema.ts';
import { weekdays, type Weekday } from '../clients/client.schema.ts';

type HoursConfig = Pick<ResolvedClientConfig, 'business_hours' | 'holidays' | 'timezone'>;

const DAY_NAMES: Record<Weekday, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

function speakTime(hhmm: string): string {
  if (hhmm === '24:00') return 'midnight';
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  const t = DateTime.fromObject({ hour: h, minute: m });
  return m === 0 ? t.toFormat('h a') : t.toFormat('h:mm a');
}

function speakRanges(ranges: readonly string[]): string {
  return ranges
    .map((range) => {
      const [start = '', end = ''] = range.split('-');
      return `${speakTime(start)} to ${speakTime(end)}`;
    })
    .join(' and ');
}

function weekdayOf(local: DateTime): Weekday {
  return weekdays[local.weekday - 1] ?? 'mon';
}

function rangesOn(config: HoursConfig, local: DateTime): readonly string[] {
  if (config.holidays.includes(local.toISODate() ?? '')) return [];
  return config.business_hours[weekdayOf(local)] ?? [];
}

/** "Monday to Thursday 9 AM to 5 PM; Friday 9 AM to 12 PM and 1 PM to 5 PM; closed Saturday and Sunday." */
export function describeHours(config: HoursConfig): string {
  const groups: { days: Weekday[]; spoken: string }[] = [];
  const closed: Weekday[] = [];
  for (const day of weekdays) {
    const ranges = config.business_hours[day] ?? [];
    if (ranges.length === 0) {
      closed.push(day);
      continue;
    }
    const spoken = speakRanges(ranges);
    const last = groups.at(-1);
    if (last && last.spoken === spoken && weekdays.indexOf(last.days.at(-1) ?? 'mon') === weekdays.indexOf(day) - 1) last.days.push(day);
    else groups.push({ days: [day], spoken });
  }
  const parts = groups.map((g) => {
    const first = DAY_NAMES[g.days[0] ?? 'mon'];
    const label = g.days.length === 1 ? first : `${first} to ${DAY_NAMES[g.days.at(-1) ?? 'mon']}`;
    return `${label} ${g.spoken}`;
  });
  if (closed.length > 0) parts.push(`closed ${closed.map((d) => DAY_NAMES[d]).join(' and ')}`);
  return parts.length > 0 ? `We're open ${parts.join('; ')}.` : "We don't have regular opening hours.";
}

export function isOpenAt(config: HoursConfig, now: Date): boolean {
  const local = DateTime.fromJSDate(now, { zone: config.timezone });
  const minutes = local.hour * 60 + local.minute;
  return rangesOn(config, local).some((range) => {
    const [start = '', end = ''] = range.split('-');
    const toMin = (t: string) => {
      const [h = 0, m = 0] = t.split(':').map(Number);
      return h * 60 + m;
    };
    return minutes >= toMin(start) && minutes < toMin(end);
  });
}

/** "9 AM to 5 PM", or "closed" (holidays included). */
export function hoursToday(config: HoursConfig, now: Date): string {
  const ranges = rangesOn(config, DateTime.fromJSDate(now, { zone: config.timezone }));
  return ranges.length > 0 ? speakRanges(ranges) : 'closed';
}
