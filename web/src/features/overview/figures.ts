/** The overview's headline figures from the analytics answer, each against the previous period. */
import { datesOf, type DateRange } from '../../lib/dates.ts';
import { formatChange, formatCount, formatCountOf, formatDuration, formatPercent } from '../../lib/format.ts';
import type { Analytics } from './overview.queries.ts';

export interface Figure {
  key: string;
  label: string;
  value: string;
  /** e.g. "+12% vs previous period"; null when there is nothing to compare with. */
  change: string | null;
  /** Whether up is good for this figure (colours the change). */
  trend: 'up' | 'down' | 'flat' | null;
  detail?: string;
}

const SENT = ['sent', 'delivered'];

export function messageCounts(byStatus: Record<string, number>) {
  const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  const sent = SENT.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0);
  return { total, sent, delivered: byStatus.delivered ?? 0, failed: byStatus.failed ?? 0, sandbox: byStatus.sandbox ?? 0 };
}

function messageDetail(counts: ReturnType<typeof messageCounts>): string {
  const parts = [`${formatCount(counts.delivered)} delivered`];
  if (counts.failed > 0) parts.push(`${formatCount(counts.failed)} failed`);
  if (counts.sandbox > 0) parts.push(`${formatCount(counts.sandbox)} in test mode (not sent)`);
  return parts.join(', ');
}

const connectedRate = (a: Analytics) => (a.totals.calls > 0 ? a.totals.connected / a.totals.calls : null);

function compare(current: number | null, previous: number | null): Pick<Figure, 'change' | 'trend'> {
  if (current === null || previous === null) return { change: null, trend: null };
  const change = formatChange(current, previous);
  return { change: change === null ? null : `${change} vs previous period`, trend: current > previous ? 'up' : current < previous ? 'down' : 'flat' };
}

export function headlineFigures(current: Analytics, previousPeriod: Analytics | undefined): Figure[] {
  const sms = messageCounts(current.messages.sms);
  const email = messageCounts(current.messages.email);
  // A period without calls compares with nothing: every change would read "new" or "no change".
  const previous = previousPeriod !== undefined && previousPeriod.totals.calls > 0 ? previousPeriod : undefined;
  const p = previous?.totals;
  const prevSms = previous ? messageCounts(previous.messages.sms) : null;
  const prevEmail = previous ? messageCounts(previous.messages.email) : null;
  return [
    { key: 'calls', label: 'Calls', value: formatCount(current.totals.calls), ...compare(current.totals.calls, p?.calls ?? null) },
    {
      key: 'connected',
      label: 'Answered',
      value: formatPercent(connectedRate(current)),
      detail: `${formatCount(current.totals.connected)} of ${formatCountOf(current.totals.calls, 'call')} connected`,
      ...compare(connectedRate(current), previous ? connectedRate(previous) : null),
    },
    {
      key: 'duration',
      label: 'Average call',
      value: formatDuration(current.totals.average_duration_ms),
      ...compare(current.totals.average_duration_ms, p?.average_duration_ms ?? null),
    },
    {
      key: 'appointments',
      label: 'Appointments booked',
      value: formatCount(current.totals.appointments_booked),
      ...compare(current.totals.appointments_booked, p?.appointments_booked ?? null),
    },
    {
      key: 'conversion',
      label: 'Booking conversion',
      value: formatPercent(current.totals.booking_conversion),
      detail: `${formatCountOf(current.totals.booked_calls, 'answered call')} ended in a booking`,
      ...compare(current.totals.booking_conversion, p?.booking_conversion ?? null),
    },
    {
      key: 'sms',
      label: 'Texts sent',
      value: formatCount(sms.sent),
      detail: messageDetail(sms),
      ...compare(sms.sent, prevSms?.sent ?? null),
    },
    {
      key: 'email',
      label: 'Emails sent',
      value: formatCount(email.sent),
      detail: messageDetail(email),
      ...compare(email.sent, prevEmail?.sent ?? null),
    },
  ];
}

/** Calls per day over the whole range, days without calls as 0 (the API lists days with calls only). */
export function callsPerDay(analytics: Analytics, range: DateRange): { dates: string[]; calls: number[]; booked: number[] } {
  const byDay = new Map(analytics.series.map((point) => [point.bucket_start, point]));
  const dates = datesOf(range);
  return {
    dates,
    calls: dates.map((date) => byDay.get(date)?.calls ?? 0),
    booked: dates.map((date) => byDay.get(date)?.booked_calls ?? 0),
  };
}

/** Shares of a whole, largest first, zeros kept (an owner wants to see "0 voicemails"). */
export function shares<K extends string>(counts: Record<K, number>, labels: Record<K, string>): { key: K; label: string; count: number; share: number }[] {
  const keys = Object.keys(labels) as K[];
  const total = keys.reduce((sum, key) => sum + counts[key], 0);
  return keys.map((key) => ({ key, label: labels[key], count: counts[key], share: total > 0 ? counts[key] / total : 0 })).sort((a, b) => b.count - a.count);
}
