import { describe, expect, it } from 'vitest';
import { toE164 } from './phone.ts';

describe('toE164', () => {
  it('reads national numbers in the default country and keeps international ones', () => {
    expect(toE164('(415) 555-2671', 'US')).toBe('+14155552671');
    expect(toE164('415.555.2671', 'US')).toBe('+14155552671');
    expect(toE164('+1 415 555 2671', 'GB')).toBe('+14155552671');
    expect(toE164('020 7946 0018', 'GB')).toBe('+442079460018');
    expect(toE164('+44 7911 123456', 'US')).toBe('+447911123456');
  });

  it('returns undefined for invalid input', () => {
    expect(toE164('', 'US')).toBeUndefined();
    expect(toE164('12', 'US')).toBeUndefined();
    expect(toE164('555-0100', 'US')).toBeUndefined();
    expect(toE164('not a number', 'US')).toBeUndefined();
    expect(toE164('4155552671', 'XX')).toBeUndefined();
    expect(toE164('1'.repeat(100), 'US')).toBeUndefined();
  });

  it('is the one normaliser: null, undefined and surrounding spaces', () => {
    expect(toE164(null, 'US')).toBeUndefined();
    expect(toE164(undefined, 'US')).toBeUndefined();
    expect(toE164('  +1 415 555 2671 ', 'US')).toBe('+14155552671');
  });
});
