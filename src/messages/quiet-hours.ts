import { DateTime } from 'luxon';

/**
 * When a text due at `now` may go out: `now` outside the quiet window, else the window's end
 * (the client's morning). The window may wrap midnight (21:00-08:00). start == end disables it.
 */
export function nextSendTime(now: Date, timezone: string, window: { start: string; end: string }): Date {
  if (window.start === window.end) return now;
  const local = DateTime.fromJSDate(now, { zone: timezone });
  const minutes = local.hour * 60 + local.minute;
  const toMinutes = (hhmm: string) => {
    const [h = 0, m = 0] = hhmm.split(':').map(Number);
    return h * 60 + m;
  };
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  const wraps = start > end;
  const quiet = wraps ? minutes >= start || minutes < end : minutes >= start && minutes < end;
  if (!quiet) return now;
  const [h = 0, m = 0] = window.end.split(':').map(Number);
  let release = local.set({ hour: h, minute: m, second: 0, millisecond: 0 });
  if (release <= local) release = release.plus({ days: 1 });
  return release.toJSDate();
}
