/**
 * The brand color arithmetic (WCAG 2 contrast), free of imports so the dashboard uses the same
 * functions as the server: the settings form's preview swatch shows the text color the saved
 * brand will get.
 */

/** WCAG AA for normal text. */
export const MIN_TEXT_CONTRAST = 4.5;
/** The lightest background brand-colored text sits on (the dashboard's page background). */
const PAGE_BACKGROUND = '#f5f7fb';
const DARK_TEXT = '#0f172a';

function channels(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

function toHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG 2 relative luminance of a #rrggbb color. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two #rrggbb colors (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/**
 * White or dark text on `background`, whichever contrasts more; black where neither reaches 4.5:1
 * (a mid-tone: white or black always reaches 4.58:1).
 */
export function readableForeground(background: string): string {
  const white = contrastRatio(background, '#ffffff');
  const dark = contrastRatio(background, DARK_TEXT);
  if (Math.max(white, dark) < MIN_TEXT_CONTRAST) return '#000000';
  return white >= dark ? '#ffffff' : DARK_TEXT;
}

/** `color`, darkened in small steps until it reads as text on the page background (unchanged if it already does). */
export function readableTextColor(color: string): string {
  const base = channels(color);
  for (let factor = 1; factor > 0; factor -= 0.04) {
    const candidate = toHex(base.map((c) => c * factor) as [number, number, number]);
    if (contrastRatio(candidate, PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST) return candidate;
  }
  return DARK_TEXT;
}
