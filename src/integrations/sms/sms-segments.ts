/**
 * SMS segment math, kept apart from the senders so config validation can use it without loading
 * the provider SDKs. Re-exported by sms.ts.
 */

// GSM 03.38 basic character set (one septet each) and the extension table (escape + char: two).
const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const gsmExtended = new Set('^{}\\[~]|€\f');

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Billable parts; 0 for an empty body. */
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  length: number;
}

/**
 * Segment count as carriers bill it: GSM-7 fits 160 septets in one part, 153 per part when
 * concatenated; anything outside GSM-7 makes the whole message UCS-2 (70, or 67 per part).
 * Parts never split an escape sequence or a surrogate pair, so counting packs greedily.
 */
export function smsSegments(body: string): SmsSegments {
  const chars = Array.from(body);
  const gsm = chars.every((char) => gsmBasic.has(char) || gsmExtended.has(char));
  const units = gsm ? chars.map((char) => (gsmExtended.has(char) ? 2 : 1)) : chars.map((char) => char.length);
  const length = units.reduce((sum, unit) => sum + unit, 0);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  let segments = 0;
  if (length > single) {
    let used = multi;
    for (const unit of units) {
      if (used + unit > multi) {
        segments += 1;
        used = 0;
      }
      used += unit;
    }
  } else if (length > 0) {
    segments = 1;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments, length };
}
