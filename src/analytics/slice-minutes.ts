/**
 * How finely analytics must slice UTC time so that no slice straddles a local hour of the client's
 * zone: a slice is moved into local time as a whole, by the offset at its start.
 */
import { IANAZone } from 'luxon';

export type SliceMinutes = 15 | 30 | 60;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The widest slice dividing every UTC offset the zone has during the period: 60 minutes for
 * whole-hour zones (most, DST included: their changes fall on whole UTC hours), 30 for India or
 * Lord Howe, 15 for Nepal or Chatham. Fewer slices mean less grouping and fewer timezone
 * conversions in the query. The offset is read every day of the period: zones change offset a few
 * times a year, never for less than a day.
 */
export function sliceMinutesFor(timezone: string, from: Date, to: Date): SliceMinutes {
  const zone = IANAZone.create(timezone);
  if (!zone.isValid) throw new Error(`unknown timezone ${timezone}`);
  // A slice starts up to an hour before the period and ends up to an hour after it.
  const start = from.getTime() - HOUR_MS;
  const end = to.getTime() + HOUR_MS;
  let minutes: SliceMinutes = 60;
  for (let at = start; ; at = Math.min(at + DAY_MS, end)) {
    const offset = Math.abs(zone.offset(at));
    if (offset % 30 !== 0) return 15;
    if (offset % 60 !== 0) minutes = 30;
    if (at === end) return minutes;
  }
}
