/**
 * GET /api/clients/:clientId/analytics: one period's figures for one client, computed in SQL.
 */
import { z } from 'zod';
import { timeBound } from '../client-api/client-api.schemas.ts';
import { callOutcomes } from './call-outcome.ts';

/** The longest period one request may cover, days (bounds the number of buckets). */
export const MAX_ANALYTICS_DAYS = 400;
export const DEFAULT_ANALYTICS_DAYS = 30;

export const analyticsQuery = z.object({
  from: timeBound.optional().describe(`Start of the period (default: ${DEFAULT_ANALYTICS_DAYS} days before \`to\`).`),
  to: timeBound.optional().describe('End of the period, exclusive (default: now; a date includes that day).'),
  bucket: z.enum(['day', 'week']).default('day').describe('Series granularity, in the client timezone (weeks start on Monday).'),
});
export type AnalyticsQuery = z.infer<typeof analyticsQuery>;

const count = z.number().int().nonnegative();

export const analyticsSchema = z.object({
  client_id: z.string(),
  timezone: z.string().describe('The client timezone: buckets and hours of the week are local times.'),
  from: z.string().describe('ISO-8601, UTC.'),
  to: z.string().describe('ISO-8601, UTC (exclusive).'),
  bucket: z.enum(['day', 'week']),
  totals: z.object({
    calls: count,
    connected: count.describe('Calls whose outcome is not no_answer or voicemail and that lasted more than 0 ms.'),
    total_duration_ms: z.number().nonnegative(),
    average_duration_ms: z.number().nonnegative().describe('Over calls with a duration above 0 ms; 0 when there are none.'),
    booked_calls: count.describe('Calls whose outcome is booked.'),
    appointments_booked: count.describe('Appointments created in the period that are still booked (not cancelled).'),
    booking_conversion: z.number().min(0).max(1).describe('booked_calls / connected; 0 when nothing connected.'),
  }),
  series: z
    .array(
      z.object({
        bucket_start: z.string().describe('YYYY-MM-DD, local to the client.'),
        calls: count,
        connected: count,
        total_duration_ms: z.number().nonnegative(),
        booked_calls: count,
      }),
    )
    .describe('One entry per day or week that had calls, oldest first.'),
  sentiment: z.object({ positive: count, negative: count, neutral: count, unknown: count }),
  outcomes: z.object(Object.fromEntries(callOutcomes.map((outcome) => [outcome, count])) as Record<(typeof callOutcomes)[number], typeof count>),
  calls_by_hour_of_week: z
    .array(z.array(count).length(24))
    .length(7)
    .describe('7 rows (Monday first) of 24 hourly call counts, in the client timezone.'),
  messages: z
    .object({ sms: z.record(z.string(), count), email: z.record(z.string(), count) })
    .describe('Messages created in the period, by channel and status (e.g. delivered, failed).'),
  function_calls: z.object({
    total: count,
    failed: count,
    by_name: z.array(z.object({ name: z.string(), total: count, failed: count })).describe('Most failures first.'),
  }),
});
export type Analytics = z.infer<typeof analyticsSchema>;
