import { describe, expect, it } from 'vitest';
import { callsPerDay, headlineFigures, messageCounts, shares } from './figures.ts';
import type { Analytics } from './overview.queries.ts';

function analytics(overrides: Partial<Analytics['totals']> = {}, messages: Analytics['messages'] = { sms: {}, email: {} }): Analytics {
  return {
    client_id: 'c',
    timezone: 'UTC',
    from: '2025-03-01T00:00:00Z',
    to: '2025-03-08T00:00:00Z',
    bucket: 'day',
    totals: { calls: 10, connected: 8, total_duration_ms: 800_000, average_duration_ms: 100_000, booked_calls: 4, appointments_booked: 4, booking_conversion: 0.5, ...overrides },
    series: [
      { bucket_start: '2025-03-02', calls: 6, connected: 5, total_duration_ms: 500_000, booked_calls: 3 },
      { bucket_start: '2025-03-05', calls: 4, connected: 3, total_duration_ms: 300_000, booked_calls: 1 },
    ],
    sentiment: { positive: 5, negative: 1, neutral: 3, unknown: 1 },
    outcomes: { booked: 4, message: 2, voicemail: 1, no_answer: 2, other: 1 },
    calls_by_hour_of_week: Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0)),
    messages,
    function_calls: { total: 0, failed: 0, by_name: [] },
  };
}

describe('overview figures', () => {
  it('shows the API totals as they are, with the change against the previous period', () => {
    const figures = headlineFigures(analytics(), analytics({ calls: 5, connected: 5, booking_conversion: 0.5 }));
    const byKey = Object.fromEntries(figures.map((f) => [f.key, f]));
    expect(byKey.calls).toMatchObject({ value: '10', change: '+100% vs previous period', trend: 'up' });
    expect(byKey.connected).toMatchObject({ value: '80%', change: '−20% vs previous period', trend: 'down' });
    expect(byKey.duration?.value).toBe('1m 40s');
    expect(byKey.conversion).toMatchObject({ value: '50%', change: 'no change vs previous period', trend: 'flat' });
  });

  it('has no change to show without a previous period, or when it had none of a figure', () => {
    const figures = headlineFigures(analytics(), analytics({ calls: 0, connected: 0 }));
    expect(figures.every((f) => f.change === null)).toBe(true);
    expect(headlineFigures(analytics(), undefined).every((f) => f.change === null)).toBe(true);
  });

  it('counts a message as sent once the provider took it, delivered or not', () => {
    expect(messageCounts({ sent: 2, delivered: 3, failed: 1, sandbox: 4 })).toEqual({ total: 10, sent: 5, delivered: 3, failed: 1, sandbox: 4 });
  });

  it('fills the days without calls with zeros', () => {
    expect(callsPerDay(analytics(), { from: '2025-03-01', to: '2025-03-05' })).toEqual({
      dates: ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05'],
      calls: [0, 6, 0, 0, 4],
      booked: [0, 3, 0, 0, 1],
    });
  });

  it('orders shares largest first and keeps zeros', () => {
    const result = shares({ a: 1, b: 3, c: 0 }, { a: 'A', b: 'B', c: 'C' });
    expect(result.map((r) => [r.key, r.count, r.share])).toEqual([
      ['b', 3, 0.75],
      ['a', 1, 0.25],
      ['c', 0, 0],
    ]);
  });
});
