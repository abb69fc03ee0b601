import { describe, expect, it } from 'vitest';
import { sliceMinutesFor } from './slice-minutes.ts';

describe('sliceMinutesFor', () => {
  const year = [new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z')] as const;

  it.each([
    ['UTC', 60],
    ['America/New_York', 60], // UTC-5 / UTC-4
    ['Europe/London', 60],
    ['Asia/Kolkata', 30], // UTC+5:30
    ['America/St_Johns', 30], // UTC-3:30 / UTC-2:30
    ['Australia/Lord_Howe', 30], // UTC+10:30 / UTC+11: a half-hour DST shift
    ['Asia/Kathmandu', 15], // UTC+5:45
    ['Pacific/Chatham', 15], // UTC+12:45 / UTC+13:45
  ] as const)('%s over a year: %i minutes', (timezone, minutes) => {
    expect(sliceMinutesFor(timezone, ...year)).toBe(minutes);
  });

  it('reads the offsets of the period only', () => {
    // Lord Howe is UTC+11 from 2026-10-04 02:00 local (2026-10-03T15:30Z), UTC+10:30 before.
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-06-01T00:00:00Z'), new Date('2026-10-01T00:00:00Z'))).toBe(30);
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-10-04T16:00:00Z'), new Date('2026-10-20T00:00:00Z'))).toBe(60);
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-10-01T00:00:00Z'), new Date('2026-10-20T00:00:00Z'))).toBe(30);
    // Short periods either side of the change, and one whose first slice may start before it.
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-10-03T17:00:00Z'), new Date('2026-10-03T18:00:00Z'))).toBe(60);
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-10-03T13:00:00Z'), new Date('2026-10-03T14:00:00Z'))).toBe(30);
    expect(sliceMinutesFor('Australia/Lord_Howe', new Date('2026-10-03T16:10:00Z'), new Date('2026-10-03T18:00:00Z'))).toBe(30);
  });

  it('rejects an unknown zone', () => {
    expect(() => sliceMinutesFor('Nowhere/Special', ...year)).toThrow('unknown timezone');
  });
});
