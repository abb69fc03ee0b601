/** Reading the masked client configuration for the settings page (it arrives as a free-form object). */

export type Config = Record<string, unknown>;

export const asRecord = (value: unknown): Config => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Config) : {});
const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The weekdays as the configuration keys them, with their names. */
export const WEEKDAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;

/** Every weekday with its opening hours, "Closed" when it has none. */
export function weeklyHours(config: Config): { day: string; hours: string }[] {
  const hours = asRecord(config.business_hours);
  return WEEKDAYS.map(([key, day]) => {
    const ranges = asStrings(hours[key]);
    return { day, hours: ranges.length > 0 ? ranges.map((r) => r.replace('-', ' – ')).join(', ') : 'Closed' };
  });
}

/** Masked secrets look like "••••1234": the API never sends more. */
export const isMasked = (value: unknown): boolean => typeof value === 'string' && value.startsWith('••••');

/** Paths of every secret in the configuration (all masked), for the "credentials on file" list. */
export function maskedSecrets(config: Config, prefix = ''): { path: string; value: string }[] {
  return Object.entries(config).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isMasked(value)) return [{ path, value: value as string }];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return maskedSecrets(value as Config, path);
    return [];
  });
}

export function channelSummary(block: unknown): { provider: string | null; enabled: boolean } {
  const record = asRecord(block);
  return { provider: typeof record.provider === 'string' ? record.provider : null, enabled: record.enabled === true };
}

/** The client schema's `features` in an owner's words. */
export const FEATURE_LABELS: Record<string, string> = {
  booking: 'Booking by phone',
  sms_followup: 'Follow-up texts',
  email_summary: 'Summary emails',
  caller_email: 'Emails to callers',
};

export function featureSwitches(config: Config): { name: string; on: boolean }[] {
  return Object.entries(asRecord(config.features))
    .filter(([, value]) => typeof value === 'boolean')
    .map(([name, value]) => ({ name, on: value as boolean }));
}

export { asStrings };
