/**
 * Phone numbers to E.164: the one function of the platform (webhook ingest, functions, Twilio
 * callbacks, the calendar, the post-call texts), with one metadata set (libphonenumber's full
 * metadata: validity is checked against real number ranges, not only lengths).
 */
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A number as E.164, or undefined when it is not a valid number. Numbers without a country code
 * are read in `defaultCountry` (ISO 3166-1 alpha-2: the client's, see defaultCountryOf).
 */
export function toE164(raw: string | null | undefined, defaultCountry: string): string | undefined {
  if (!raw) return undefined;
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.length > 40) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, isSupportedCountry(defaultCountry) ? defaultCountry : undefined);
  return parsed?.isValid() ? parsed.number : undefined;
}
