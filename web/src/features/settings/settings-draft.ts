/**
 * The settings form's state, as plain functions: the editable part of a client's configuration as
 * a draft, the JSON merge patch (RFC 7396, what PATCH /settings takes) from the loaded values to
 * the draft, field ids for the server's issue paths, and the cheap checks done before sending.
 * A section edits its key of the draft; nothing here knows the sections, so adding one (branding)
 * needs no change here beyond the key the API accepts.
 */
import { asRecord, asStrings, WEEKDAYS, type Config } from './settings-view.ts';

export type Weekday = (typeof WEEKDAYS)[number][0];

/** The editable keys of the configuration, as the API lists them (`editable_keys`), with their current values. */
export type SettingsDraft = Record<string, unknown>;

export function draftFrom(config: Config | null | undefined, editableKeys: readonly string[]): SettingsDraft {
  const source = config ?? {};
  const draft: SettingsDraft = {};
  for (const key of editableKeys) {
    if (source[key] !== undefined) draft[key] = structuredClone(source[key]);
  }
  // Every weekday present (closed = no ranges), so the form and the patch speak of all seven.
  if (editableKeys.includes('business_hours')) {
    const hours = asRecord(draft.business_hours);
    draft.business_hours = Object.fromEntries(WEEKDAYS.map(([day]) => [day, asStrings(hours[day])]));
  }
  return draft;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The JSON merge patch that turns `before` into `after`: changed leaves and arrays are sent whole,
 * removed keys as null, unchanged parts not at all. Undefined when nothing changed.
 */
export function mergePatchBetween(before: unknown, after: unknown): unknown {
  if (isObject(before) && isObject(after)) {
    const patch: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (after[key] === undefined) {
        if (before[key] !== undefined) patch[key] = null;
        continue;
      }
      const part = mergePatchBetween(before[key], after[key]);
      if (part !== undefined) patch[key] = part;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : after;
}

/** The `changes` of a PATCH: per editable key, the merge patch from the loaded values to the draft. */
export function changesBetween(loaded: SettingsDraft, draft: SettingsDraft): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(loaded), ...Object.keys(draft)])) {
    const patch = mergePatchBetween(loaded[key] ?? {}, draft[key] ?? {});
    if (patch !== undefined) changes[key] = patch;
  }
  return changes;
}

/** A DOM id for the field holding a JSON path (`$.business_hours.mon[0]` → `field-business_hours-mon-0`). */
export function fieldId(path: string): string {
  return `field-${path
    .replace(/^\$\.?/, '')
    .replace(/[^A-Za-z0-9_]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** `branding.primary_color` as the client schema takes it. */
export const BRAND_COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;

const timePattern = /^([01]\d|2[0-3]):[0-5]\d$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Checks cheap enough to do while typing, worded like the server's; the server's schema stays the
 * judge (it also finds overlaps, unknown template variables and over-long texts).
 */
export function localIssues(draft: SettingsDraft): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const hours = asRecord(draft.business_hours);
  for (const [day] of WEEKDAYS) {
    asStrings(hours[day]).forEach((range, index) => {
      const [open = '', close = ''] = range.split('-');
      const path = `$.business_hours.${day}[${index}]`;
      if (!timePattern.test(open) || !(timePattern.test(close) || close === '24:00')) issues.push({ path, message: 'enter an opening and a closing time' });
      else if (close !== '24:00' && close <= open) issues.push({ path, message: 'closing time must be after opening time' });
    });
  }
  const holidays = asStrings(draft.holidays);
  holidays.forEach((date, index) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) issues.push({ path: `$.holidays[${index}]`, message: 'must be a date like 2030-12-25' });
    else if (holidays.indexOf(date) !== index) issues.push({ path: `$.holidays[${index}]`, message: 'this date is listed twice' });
  });
  const email = asRecord(draft.notifications).business_email;
  if (typeof email === 'string' && email !== '' && !emailPattern.test(email)) {
    issues.push({ path: '$.notifications.business_email', message: 'must be an email address like frontdesk@example.com' });
  }
  const branding = asRecord(draft.branding);
  if (typeof branding.primary_color === 'string' && !BRAND_COLOR_PATTERN.test(branding.primary_color)) {
    issues.push({ path: '$.branding.primary_color', message: 'must be a color like #0f766e' });
  }
  if (typeof branding.logo_url === 'string' && !/^https:\/\/[^\s/]+/i.test(branding.logo_url)) {
    issues.push({ path: '$.branding.logo_url', message: 'must be an https:// URL' });
  }
  return issues;
}

/** Masked secrets arrive as "••••1234"; a replacement is typed in full. JSON path of a dotted secret path. */
export const secretJsonPath = (dotted: string): string => `$.${dotted}`;
