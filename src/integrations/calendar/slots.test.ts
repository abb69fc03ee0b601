import { describe, expect, it } from 'vitest';
import { checkStart, computeSlots, nearestSlots, parseStart, speakSlots, toSlot, type SlotRules } from './slots.ts';

const NY = 'America/New_York';
const everyDay = ['09:00-17:00'];

function rules(overrides: Partial<SlotRules> = {}): SlotRules {
  return {
    timezone: NY,
    businessHours: { mon: everyDay, tue: everyDay, wed: everyDay, thu: everyDay, fri: everyDay },
    holidays: [],
    appointmentMinutes: 30,
    bufferMinutes: 0,
    minNoticeMinutes: 0,
    horizonDays: 14,
    ...overrides,
  };
}

const iso = (r: SlotRules, slots: { start: Date; end: Date }[]) => slots.map((s) => toSlot(s, r.timezone).start);

describe('computeSlots', () => {
  it('cuts business hours into appointment-length slots with the client offset', () => {
    const r = rules({ horizonDays: 1 });
    const slots = computeSlots(r, { now: new Date('2026-03-02T12:00:00Z') }); // Monday 07:00 local
    expect(slots).toHaveLength(16);
    expect(toSlot(slots[0]!, NY)).toEqual({ start: '2026-03-02T09:00:00-05:00', end: '2026-03-02T09:30:00-05:00' });
    expect(toSlot(slots.at(-1)!, NY).start).toBe('2026-03-02T16:30:00-05:00');
  });

  it('keeps wall-clock hours on the spring-forward day (America/New_York 2026-03-08)', () => {
    const all = { mon: everyDay, tue: everyDay, wed: everyDay, thu: everyDay, fri: everyDay, sat: everyDay, sun: everyDay };
    const r = rules({ businessHours: all, horizonDays: 3 });
    const slots = computeSlots(r, { now: new Date('2026-03-07T05:00:00Z') });
    const starts = iso(r, slots);
    expect(starts.filter((s) => s.startsWith('2026-03-07'))).toHaveLength(16);
    expect(starts.filter((s) => s.startsWith('2026-03-08'))).toHaveLength(16);
    expect(starts).toContain('2026-03-07T09:00:00-05:00');
    expect(starts).toContain('2026-03-08T09:00:00-04:00');
    expect(starts).toContain('2026-03-08T16:30:00-04:00');
    const firstOnDst = slots.find((s) => toSlot(s, NY).start === '2026-03-08T09:00:00-04:00');
    expect(firstOnDst?.start.toISOString()).toBe('2026-03-08T13:00:00.000Z');
  });

  it('keeps wall-clock hours on the fall-back day (America/New_York 2026-11-01)', () => {
    const all = { sat: everyDay, sun: everyDay };
    const r = rules({ businessHours: all, horizonDays: 3 });
    const slots = computeSlots(r, { now: new Date('2026-10-31T04:00:00Z') });
    const starts = iso(r, slots);
    expect(starts).toContain('2026-10-31T09:00:00-04:00');
    expect(starts).toContain('2026-11-01T09:00:00-05:00');
    expect(starts.filter((s) => s.startsWith('2026-11-01'))).toHaveLength(16);
    expect(slots.find((s) => toSlot(s, NY).start === '2026-11-01T09:00:00-05:00')?.start.toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });

  it('handles a range through midnight on a DST day (00:00-24:00 is 23 hours in spring)', () => {
    const r = rules({ businessHours: { sun: ['00:00-24:00'] }, appointmentMinutes: 60, horizonDays: 2 });
    const slots = computeSlots(r, { now: new Date('2026-03-08T04:00:00Z') });
    expect(slots).toHaveLength(23);
    expect(toSlot(slots[0]!, NY).start).toBe('2026-03-08T00:00:00-05:00');
    expect(toSlot(slots.at(-1)!, NY).start).toBe('2026-03-08T23:00:00-04:00');
  });

  it('skips holidays and closed days', () => {
    const r = rules({ holidays: ['2026-03-03'], horizonDays: 7 });
    const starts = iso(r, computeSlots(r, { now: new Date('2026-03-02T05:00:00Z') }));
    expect(starts.some((s) => s.startsWith('2026-03-03'))).toBe(false);
    expect(starts.some((s) => s.startsWith('2026-03-07') || s.startsWith('2026-03-08'))).toBe(false); // weekend
    expect(starts.some((s) => s.startsWith('2026-03-04'))).toBe(true);
  });

  it('respects split hours (fri 09:00-12:00, 13:00-17:00)', () => {
    const r = rules({ businessHours: { fri: ['09:00-12:00', '13:00-17:00'] }, horizonDays: 1 });
    const starts = iso(r, computeSlots(r, { now: new Date('2026-03-06T05:00:00Z') }));
    expect(starts).toHaveLength(14);
    expect(starts).toContain('2026-03-06T11:30:00-05:00');
    expect(starts).not.toContain('2026-03-06T12:00:00-05:00');
    expect(starts).not.toContain('2026-03-06T12:30:00-05:00');
    expect(starts).toContain('2026-03-06T13:00:00-05:00');
  });

  it('starts after the minimum notice', () => {
    const r = rules({ minNoticeMinutes: 60, horizonDays: 1 });
    const starts = iso(r, computeSlots(r, { now: new Date('2026-03-02T15:10:00Z') })); // 10:10 local
    expect(starts[0]).toBe('2026-03-02T11:30:00-05:00');
  });

  it('keeps the buffer free after busy time and after the new appointment', () => {
    const r = rules({ bufferMinutes: 15, horizonDays: 1 });
    const busy = [{ start: new Date('2026-03-02T15:00:00Z'), end: new Date('2026-03-02T15:30:00Z') }]; // 10:00-10:30
    const starts = iso(r, computeSlots(r, { now: new Date('2026-03-02T05:00:00Z'), busy }));
    expect(starts).toContain('2026-03-02T09:00:00-05:00');
    expect(starts).not.toContain('2026-03-02T09:30:00-05:00'); // would end 10:00, no 15 min gap
    expect(starts).not.toContain('2026-03-02T10:00:00-05:00');
    expect(starts).not.toContain('2026-03-02T10:30:00-05:00'); // inside the 15 min after busy
    expect(starts).toContain('2026-03-02T11:00:00-05:00');
  });

  it('stops at the horizon (today plus horizon_days - 1)', () => {
    const r = rules({ horizonDays: 2 });
    const starts = iso(r, computeSlots(r, { now: new Date('2026-03-02T05:00:00Z') }));
    expect(new Set(starts.map((s) => s.slice(0, 10)))).toEqual(new Set(['2026-03-02', '2026-03-03']));
  });
});

describe('checkStart', () => {
  const now = new Date('2026-03-02T12:00:00Z');
  it('accepts a grid start inside business hours', () => {
    expect(checkStart(rules(), new Date('2026-03-03T14:00:00Z'), now)).toBe('ok');
  });
  it('outside hours, weekend and holiday', () => {
    expect(checkStart(rules(), new Date('2026-03-03T12:00:00Z'), now)).toBe('outside_hours'); // 07:00
    expect(checkStart(rules(), new Date('2026-03-07T15:00:00Z'), now)).toBe('outside_hours'); // Saturday
    expect(checkStart(rules({ holidays: ['2026-03-03'] }), new Date('2026-03-03T14:00:00Z'), now)).toBe('outside_hours');
  });
  it('past, off-grid, within notice, beyond horizon', () => {
    expect(checkStart(rules(), new Date('2026-02-27T15:00:00Z'), now)).toBe('invalid_time');
    expect(checkStart(rules(), new Date('2026-03-03T14:10:00Z'), now)).toBe('invalid_time');
    expect(checkStart(rules({ minNoticeMinutes: 180 }), new Date('2026-03-02T14:00:00Z'), now)).toBe('invalid_time');
    expect(checkStart(rules({ horizonDays: 2 }), new Date('2026-03-05T14:00:00Z'), now)).toBe('invalid_time');
  });
});

describe('parseStart', () => {
  it('reads a local date-time in the client zone and honours an explicit offset', () => {
    expect(parseStart('2026-03-09T09:00', NY)?.toISOString()).toBe('2026-03-09T13:00:00.000Z');
    expect(parseStart('2026-03-06T09:00:00', NY)?.toISOString()).toBe('2026-03-06T14:00:00.000Z');
    expect(parseStart('2026-03-06T09:00:00Z', NY)?.toISOString()).toBe('2026-03-06T09:00:00.000Z');
    expect(parseStart('2026-03-06T09:00:00+01:00', NY)?.toISOString()).toBe('2026-03-06T08:00:00.000Z');
    expect(parseStart('tomorrow at 3', NY)).toBeUndefined();
    expect(parseStart('2026-02-30T09:00', NY)).toBeUndefined();
  });
});

describe('nearestSlots', () => {
  it('returns the closest slots in time order', () => {
    const at = (h: number) => ({ start: new Date(Date.UTC(2026, 2, 2, h)), end: new Date(Date.UTC(2026, 2, 2, h, 30)) });
    const picked = nearestSlots([at(9), at(10), at(12), at(15), at(16)], new Date(Date.UTC(2026, 2, 2, 11)), 3);
    expect(picked.map((s) => s.start.getUTCHours())).toEqual([9, 10, 12]);
  });
});

describe('speakSlots', () => {
  const now = new Date('2026-03-02T14:00:00Z'); // Monday 09:00 New York
  it('says today, tomorrow, weekday and date', () => {
    expect(speakSlots([{ start: '2026-03-02T10:00:00-05:00', end: '' }, { start: '2026-03-03T14:30:00-05:00', end: '' }], NY, now)).toBe(
      'today at 10 AM or tomorrow at 2:30 PM',
    );
    expect(
      speakSlots(
        [{ start: '2026-03-05T10:00:00-05:00', end: '' }, { start: '2026-03-05T14:30:00-05:00', end: '' }, { start: '2026-03-16T09:00:00-04:00', end: '' }],
        NY,
        now,
      ),
    ).toBe('Thursday at 10 AM, Thursday at 2:30 PM, or Monday, March 16 at 9 AM');
    expect(speakSlots([], NY, now)).toBe('');
  });
});
