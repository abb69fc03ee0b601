import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.ts';

describe('withDeadline', () => {
  it('returns the work when it is in time, the fallback when it is not, and throws what onTimeout throws', async () => {
    expect(await withDeadline(Promise.resolve(1), 1_000, () => 'late')).toBe(1);
    expect(await withDeadline(() => new Promise<number>(() => undefined), 10, () => 'late')).toBe('late');
    await expect(
      withDeadline(new Promise<number>(() => undefined), 10, () => {
        throw new Error('timed out');
      }),
    ).rejects.toThrow('timed out');
    await expect(withDeadline(Promise.reject(new Error('failed')), 1_000, () => 'late')).rejects.toThrow('failed');
  });
});
