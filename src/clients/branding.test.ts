import { describe, expect, it } from 'vitest';
import { brandOf, contrastRatio, MIN_TEXT_CONTRAST, PLATFORM_BRAND, readableForeground, readableTextColor } from './branding.ts';

describe('brand colors', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#1d4ed8', '#ffffff')).toBeCloseTo(6.7, 1);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });

  it('puts dark text on light brand colors and white on dark ones, always at least 4.5:1', () => {
    expect(readableForeground('#ffd700')).toBe('#0f172a');
    expect(readableForeground('#ffffff')).toBe('#0f172a');
    expect(readableForeground('#0f766e')).toBe('#ffffff');
    // Every color of a 9-level grid per channel (0, 32, … 255).
    for (let i = 0; i < 729; i += 1) {
      const color = `#${[Math.floor(i / 81), Math.floor(i / 9) % 9, i % 9].map((c) => Math.min(255, c * 32).toString(16).padStart(2, '0')).join('')}`;
      expect(contrastRatio(color, readableForeground(color))).toBeGreaterThanOrEqual(MIN_TEXT_CONTRAST);
      expect(contrastRatio(readableTextColor(color), '#f5f7fb')).toBeGreaterThanOrEqual(MIN_TEXT_CONTRAST);
    }
  });

  it('keeps a brand color that already reads as text, and darkens one that does not', () => {
    expect(readableTextColor('#0f766e')).toBe('#0f766e');
    const gold = readableTextColor('#ffd700');
    expect(gold).not.toBe('#ffd700');
    expect(contrastRatio(gold, '#f5f7fb')).toBeGreaterThanOrEqual(MIN_TEXT_CONTRAST);
  });

  it("derives a client's brand from its branding, its name, or the platform's", () => {
    expect(brandOf(null)).toMatchObject({ display_name: PLATFORM_BRAND.display_name, logo_url: null, primary_color: PLATFORM_BRAND.primary_color });
    expect(brandOf({ name: 'Acme Dental' })).toMatchObject({ display_name: 'Acme Dental', logo_url: null, primary_color: PLATFORM_BRAND.primary_color });
    expect(brandOf({ name: 'Acme Dental', branding: { display_name: 'Bright Smile', logo_url: 'https://cdn.example.com/l.svg', primary_color: '#ffd700' } })).toEqual({
      display_name: 'Bright Smile',
      logo_url: 'https://cdn.example.com/l.svg',
      primary_color: '#ffd700',
      on_primary_color: '#0f172a',
      primary_text_color: readableTextColor('#ffd700'),
    });
  });
});
