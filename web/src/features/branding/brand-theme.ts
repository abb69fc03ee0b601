/**
 * A brand as CSS custom properties. The server derives the readable colors (text on the brand
 * color, a link shade that reads on the page), so every brand passes the contrast check; the
 * softer and darker shades are mixed here from those.
 */
import type { Brand } from './branding.queries.ts';

export type BrandStyle = Record<`--${string}`, string>;

export function brandStyle(brand: Pick<Brand, 'primary_color' | 'on_primary_color' | 'primary_text_color'>): BrandStyle {
  return {
    '--primary': brand.primary_color,
    '--on-primary': brand.on_primary_color,
    '--primary-ink': brand.primary_text_color,
    // Text on --primary-soft (menus, the active tab): darker than the ink, so it still reads there.
    '--primary-dark': `color-mix(in srgb, ${brand.primary_text_color} 80%, black)`,
    '--primary-soft': `color-mix(in srgb, ${brand.primary_color} 12%, white)`,
    '--focus-ring': brand.primary_text_color,
  };
}

/** The letter shown when a brand has no logo (or it fails to load). */
export function brandInitial(displayName: string): string {
  return Array.from(displayName.trim())[0]?.toUpperCase() ?? '?';
}
