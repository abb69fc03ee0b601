import { describe, expect, it } from 'vitest';
import { addDays, datesOf, daysInRange, lastDays, previousPeriod, rangeFrom, todayIn } from './dates.ts';

describe('dashboard dates', () => {
  it('reads today in the client timezone, not the browser’s', () => {
    const now = new Date('2025-03-10T03:30:00Z');
    expect(todayIn('America/New_York', now)).toBe('2025-03-09');
    expect(todayIn('Europe/Berlin', now)).toBe('2025-03-10');
  });

  it('counts ranges inclusively and across month ends', () => {
    expect(addDays('2025-02-27', 2)).toBe('2025-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(daysInRange('2025-03-01', '2025-03-01')).toBe(1);
    expect(daysInRange('2025-03-01', '2025-03-30')).toBe(30);
    expect(datesOf({ from: '2025-03-30', to: '2025-04-01' })).toEqual(['2025-03-30', '2025-03-31', '2025-04-01']);
  });

  it('compares against the same number of days right before', () => {
    expect(previousPeriod({ from: '2025-03-01', to: '2025-03-07' })).toEqual({ from: '2025-02-22', to: '2025-02-28' });
    expect(previousPeriod({ from: '2025-03-05', to: '2025-03-05' })).toEqual({ from: '2025-03-04', to: '2025-03-04' });
    expect(lastDays(7, 'UTC', new Date('2025-03-10T12:00:00Z'))).toEqual({ from: '2025-03-04', to: '2025-03-10' });
  });

  it('takes a range from the URL only when both ends are dates', () => {
    const fallback = { from: '2025-01-01', to: '2025-01-31' };
    expect(rangeFrom({ from: '2025-02-01', to: '2025-02-03' }, fallback)).toEqual({ from: '2025-02-01', to: '2025-02-03' });
    expect(rangeFrom({ from: '2025-02-03', to: '2025-02-01' }, fallback)).toEqual({ from: '2025-02-01', to: '2025-02-03' });
    expect(rangeFrom({ from: 'yesterday', to: '2025-02-01' }, fallback)).toBe(fallback);
    expect(rangeFrom({ from: '2025-02-31', to: '2025-03-01' }, fallback)).toBe(fallback);
  });
});
