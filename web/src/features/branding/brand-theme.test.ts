import { describe, expect, it } from 'vitest';
import { brandInitial, brandStyle } from './brand-theme.ts';

describe('brandStyle', () => {
  it('maps the served colors onto the CSS variables the stylesheet reads', () => {
    expect(brandStyle({ primary_color: '#ffd700', on_primary_color: '#0f172a', primary_text_color: '#857000' })).toEqual({
      '--primary': '#ffd700',
      '--on-primary': '#0f172a',
      '--primary-ink': '#857000',
      '--primary-dark': 'color-mix(in srgb, #857000 80%, black)',
      '--primary-soft': 'color-mix(in srgb, #ffd700 12%, white)',
      '--focus-ring': '#857000',
    });
  });

  it('takes the first letter of the name, surrogate pairs included', () => {
    expect(brandInitial(' bright smile')).toBe('B');
    expect(brandInitial('😀 Dental')).toBe('😀');
    expect(brandInitial('')).toBe('?');
  });
});
