import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

describe('cursor', () => {
  const at = '2026-05-04T14:00:00.123456Z';

  it('round-trips and is opaque (base64url)', () => {
    const text = encodeCursor('calls', { at, id: 'call_1' });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('calls', text)).toEqual({ at, id: 'call_1' });
  });

  it.each([
    ['another list', encodeCursor('messages', { at, id: '3f1c2a4e-1111-4a2b-9c3d-0123456789ab' }), 'calls'],
    ['not base64 JSON', 'garbage!', 'calls'],
    ['a non-uuid id for a uuid-keyed list', encodeCursor('messages', { at, id: "x' or 1=1" }), 'messages'],
    ['an impossible date', encodeCursor('calls', { at: '2026-02-30T00:00:00.000000Z', id: 'c' }), 'calls'],
    ['a time without microseconds', encodeCursor('calls', { at: '2026-02-01T00:00:00Z', id: 'c' }), 'calls'],
  ] as const)('refuses %s with 400 invalid_payload', (_name, text, kind) => {
    expect(() => decodeCursor(kind, text)).toThrow(AppError);
    try {
      decodeCursor(kind, text);
    } catch (error) {
      expect((error as AppError).status).toBe(400);
    }
  });
});
