/**
 * A client's figures for a period: the aggregates come grouped from the database (analytics.repo);
 * this only resolves the period and shapes the answer (zero-filling, ratios).
 */
import { resolveTimeBound } from '../client-api/client-api.service.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { prepareAnalyticsTransaction, appointmentsBooked, callAggregates, functionCounts, messageCounts, type AnalyticsPeriod } from './analytics.repo.ts';
import { DEFAULT_ANALYTICS_DAYS, MAX_ANALYTICS_DAYS, type Analytics, type AnalyticsQuery } from './analytics.schemas.ts';

const DAY_MS = 86_400_000;

export function analyticsPeriod(query: AnalyticsQuery, timezone: string, now: Date = new Date()): AnalyticsPeriod {
  const to = resolveTimeBound(query.to, timezone, 'to') ?? now;
  const from = resolveTimeBound(query.from, timezone, 'from') ?? new Date(to.getTime() - DEFAULT_ANALYTICS_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) throw new AppError('invalid_payload', 'from: must be before to');
  if (to.getTime() - from.getTime() > MAX_ANALYTICS_DAYS * DAY_MS) {
    throw new AppError('invalid_payload', `to: the period may cover at most ${MAX_ANALYTICS_DAYS} days`);
  }
  return { from, to, timezone, bucket: query.bucket };
}

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

export function createAnalyticsService(deps: { tenancy: Tenancy }) {
  return {
    async forPeriod(clientId: string, period: AnalyticsPeriod): Promise<Analytics> {
      // The call aggregates take most of the time; the other counts are independent of them, so
      // they run beside them in a transaction of their own (on another pooled connection).
      const [calls, { messages, functions, booked }] = await Promise.all([
        deps.tenancy.withTenant(clientId, async (tx) => {
          await prepareAnalyticsTransaction(tx);
          return callAggregates(tx, clientId, period);
        }),
        deps.tenancy.withTenant(clientId, async (tx) => ({
          messages: await messageCounts(tx, clientId, period),
          functions: await functionCounts(tx, clientId, period),
          booked: await appointmentsBooked(tx, clientId, period),
        })),
      ]);

      const hours = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
      for (const [isoWeekday, hour, n] of calls.hours ?? []) {
        const day = hours[isoWeekday - 1];
        if (day && hour >= 0 && hour < 24) day[hour] = n;
      }
      const delivery: Analytics['messages'] = { sms: {}, email: {} };
      for (const row of messages) {
        if (row.channel === 'sms' || row.channel === 'email') delivery[row.channel][row.status] = row.n;
      }
      const { totals } = calls;

      return {
        client_id: clientId,
        timezone: period.timezone,
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        bucket: period.bucket,
        totals: {
          calls: totals.calls,
          connected: totals.connected,
          total_duration_ms: totals.total_duration_ms,
          average_duration_ms: totals.with_duration > 0 ? Math.round(totals.total_duration_ms / totals.with_duration) : 0,
          booked_calls: totals.booked_calls,
          appointments_booked: booked,
          booking_conversion: ratio(totals.booked_calls, totals.connected),
        },
        series: calls.series ?? [],
        sentiment: totals.sentiment,
        outcomes: totals.outcomes,
        calls_by_hour_of_week: hours,
        messages: delivery,
        function_calls: {
          total: functions.reduce((sum, row) => sum + row.total, 0),
          failed: functions.reduce((sum, row) => sum + row.failed, 0),
          by_name: functions,
        },
      };
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
