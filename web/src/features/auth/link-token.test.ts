import { describe, expect, it } from 'vitest';
import { tokenFromHash } from './link-token.ts';

describe('tokenFromHash', () => {
  it('reads the token after #token= and refuses anything else', () => {
    expect(tokenFromHash('#token=eyJhbGciOi.eyJ0eXAi.c2ln-_')).toBe('eyJhbGciOi.eyJ0eXAi.c2ln-_');
    expect(tokenFromHash('')).toBeNull();
    expect(tokenFromHash('#token=short')).toBeNull();
    expect(tokenFromHash('#token=<script>alert(1)</script>')).toBeNull();
    expect(tokenFromHash('#other=eyJhbGciOi.eyJ0eXAi')).toBeNull();
  });
});
