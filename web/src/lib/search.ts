/** Reading URL search values: anything malformed is dropped, so a hand-edited link still opens. */
import { isDate } from './dates.ts';

export function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

export function text(value: unknown, maxLength = 200): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' && value.length <= maxLength ? value : undefined;
}

export const date = (value: unknown): string | undefined => (isDate(value) ? value : undefined);

/** Drops undefined keys, so URLs carry only what is set. */
export function compact<T extends object>(search: T): T {
  return Object.fromEntries(Object.entries(search).filter(([, value]) => value !== undefined && value !== '')) as T;
}
