import fc from 'fast-check';
import Retell from 'retell-sdk';
import { describe, expect, it } from 'vitest';
import { signRetellBody, verifyRetellSignature } from './retell-signature.ts';

// The fixed vector from ../shared/reference/retell.md, produced by retell-sdk and node:crypto.
const KEY = 'key_test_0123456789abcdef';
const BODY = '{"event":"call_started","call":{"call_id":"call_abc123","agent_id":"agent_xyz"}}';
const FIXED_TS = 1714608475945;
const FIXED_SIG = 'v=1714608475945,d=e193f2f7e9d494ac89ccedc8b6bdecb7e2beadee717473f8301d0189f8cd3f6d';

describe('verifyRetellSignature', () => {
  it('accepts the reference fixed vector', () => {
    expect(signRetellBody(BODY, KEY, FIXED_TS)).toBe(FIXED_SIG);
    expect(verifyRetellSignature(BODY, KEY, FIXED_SIG, FIXED_TS + 1000)).toBe('valid');
  });

  it("agrees with the official SDK's Retell.sign (awaited) and Retell.verify", async () => {
    const signature = await Retell.sign(BODY, KEY);
    expect(verifyRetellSignature(BODY, KEY, signature)).toBe('valid');
    expect(await Retell.verify(BODY, KEY, signRetellBody(BODY, KEY, Date.now()))).toBe(true);
  });

  it('agrees with the SDK on arbitrary unicode bodies (signatures are over bytes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), async (text) => {
        const body = JSON.stringify({ event: 'call_ended', call: { transcript: text } });
        const signature = await Retell.sign(body, KEY);
        expect(verifyRetellSignature(Buffer.from(body, 'utf8'), KEY, signature)).toBe('valid');
      }),
      { numRuns: 50 },
    );
  });

  it('rejects a missing, malformed or wrong signature', () => {
    expect(verifyRetellSignature(BODY, KEY, undefined)).toBe('missing');
    expect(verifyRetellSignature(BODY, KEY, '')).toBe('missing');
    expect(verifyRetellSignature(BODY, KEY, 'garbage')).toBe('invalid');
    expect(verifyRetellSignature(BODY, KEY, `v=${FIXED_TS},d=${'0'.repeat(64)}`, FIXED_TS)).toBe('invalid');
    expect(verifyRetellSignature(BODY, 'key_other', FIXED_SIG, FIXED_TS)).toBe('invalid');
    expect(verifyRetellSignature(`${BODY} `, KEY, FIXED_SIG, FIXED_TS)).toBe('invalid');
    expect(verifyRetellSignature(JSON.stringify(JSON.parse(BODY), null, 2), KEY, FIXED_SIG, FIXED_TS)).toBe('invalid');
  });

  it('rejects timestamps older than 5 minutes or more than 1 minute ahead as stale', () => {
    expect(verifyRetellSignature(BODY, KEY, FIXED_SIG, FIXED_TS + 5 * 60_000)).toBe('valid');
    expect(verifyRetellSignature(BODY, KEY, FIXED_SIG, FIXED_TS + 5 * 60_000 + 1)).toBe('stale');
    expect(verifyRetellSignature(BODY, KEY, FIXED_SIG, FIXED_TS - 60_000)).toBe('valid');
    expect(verifyRetellSignature(BODY, KEY, FIXED_SIG, FIXED_TS - 60_001)).toBe('stale');
  });
});
