import { describe, expect, it } from 'vitest';
import { formatChange, formatCountOf, formatDateTime, formatDuration, formatPercent, formatPhone, humanize } from './format.ts';

describe('dashboard formatting', () => {
  it('durations read as minutes and seconds', () => {
    expect(formatDuration(95_000)).toBe('1m 35s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(3_720_000)).toBe('1h 2m');
    expect(formatDuration(null)).toBe('–');
  });

  it('percentages and changes against the previous period', () => {
    expect(formatPercent(0.4567)).toBe('45.7%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatChange(12, 10)).toBe('+20%');
    expect(formatChange(9, 10)).toBe('−10%');
    expect(formatChange(0, 0)).toBe('no change');
    expect(formatChange(5, 0)).toBeNull();
  });

  it('times in the client timezone, phone numbers and codes for people', () => {
    const now = new Date('2025-06-01T00:00:00Z');
    expect(formatDateTime('2025-03-04T19:05:00Z', 'America/New_York', now)).toBe('Mar 4, 2:05 PM');
    expect(formatDateTime('2024-03-04T19:05:00Z', 'America/New_York', now)).toBe('Mar 4, 2024, 2:05 PM');
    expect(formatPhone('+14155550142')).toBe('+1 415-555-0142');
    expect(formatPhone('+442071234567')).toBe('+442071234567');
    expect(humanize('no_answer')).toBe('No answer');
  });

  it('a count with its noun, singular for exactly one', () => {
    expect(formatCountOf(1, 'call')).toBe('1 call');
    expect(formatCountOf(0, 'call')).toBe('0 calls');
    expect(formatCountOf(2, 'open alert')).toBe('2 open alerts');
    expect(formatCountOf(1200, 'message')).toBe('1,200 messages');
    expect(formatCountOf(3, 'reply', 'replies')).toBe('3 replies');
  });
});
