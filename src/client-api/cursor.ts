/**
 * Opaque keyset cursors: base64url of `[kind, sortKey, id]`. The sort key is the row's timestamp
 * printed by PostgreSQL in UTC with microseconds, so no precision is lost between pages (a JS Date
 * keeps milliseconds only and would skip or repeat rows that share a millisecond).
 */
import { AppError } from '../platform/errors.ts';

export type CursorKind = 'calls' | 'appointments-asc' | 'appointments-desc' | 'messages' | 'customers';

export interface Cursor {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` */
  at: string;
  id: string;
}

const sortKeyPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Rejects impossible dates (2024-02-30) that the pattern lets through and PostgreSQL would refuse. */
function isRealTime(text: string): boolean {
  const ms = Date.parse(`${text.slice(0, 19)}Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

export function encodeCursor(kind: CursorKind, cursor: Cursor): string {
  return Buffer.from(JSON.stringify([kind, cursor.at, cursor.id])).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor` for the same kind of list; anything else is a 400. */
export function decodeCursor(kind: CursorKind, text: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (
    Array.isArray(value) &&
    value.length === 3 &&
    value[0] === kind &&
    typeof value[1] === 'string' &&
    sortKeyPattern.test(value[1]) &&
    isRealTime(value[1]) &&
    typeof value[2] === 'string' &&
    value[2].length > 0 &&
    value[2].length <= 200 &&
    // Calls are keyed by Retell's call id; the other lists by their uuid primary key.
    (kind === 'calls' || uuidPattern.test(value[2]))
  ) {
    return { at: value[1], id: value[2] };
  }
  throw new AppError('invalid_payload', 'cursor: not a cursor returned by this list (pass next_cursor unchanged)');
}
