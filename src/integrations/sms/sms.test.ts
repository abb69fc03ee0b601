import { describe, expect, it } from 'vitest';
import { messagingClient, testProviderContext } from '../../../test/helpers/messaging-clients.ts';
import { ProviderError } from '../../platform/provider-http.ts';
import { isOptOutError, smsSegments, smsSenderFor } from './sms.ts';

describe('smsSegments', () => {
  it('counts GSM-7 at 160 for one segment and 153 per part after', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 0, length: 0 });
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, length: 160 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, length: 161 });
    expect(smsSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', segments: 2, length: 306 });
    expect(smsSegments('a'.repeat(307))).toEqual({ encoding: 'GSM-7', segments: 3, length: 307 });
  });

  it('counts extension characters (€ [ ] { } ^ ~ | \\) as two septets, never split across parts', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, length: 160 });
    expect(smsSegments('€'.repeat(81))).toMatchObject({ segments: 2, length: 162 });
    // 152 plain + one escape pair: 154 septets, but the pair cannot straddle the 153 boundary.
    expect(smsSegments(`${'a'.repeat(152)}{${'a'.repeat(10)}`)).toMatchObject({ encoding: 'GSM-7', segments: 2, length: 164 });
    expect(smsSegments(`${'a'.repeat(305)}[`)).toMatchObject({ segments: 3, length: 307 });
    expect(smsSegments('^{}\\[~]|')).toMatchObject({ encoding: 'GSM-7', length: 16 });
  });

  it('switches the whole message to UCS-2 at 70 / 67 for any non-GSM character', () => {
    expect(smsSegments('é'.repeat(10))).toMatchObject({ encoding: 'GSM-7' });
    expect(smsSegments(`${'a'.repeat(69)}ễ`)).toEqual({ encoding: 'UCS-2', segments: 1, length: 70 });
    expect(smsSegments(`${'a'.repeat(70)}ễ`)).toEqual({ encoding: 'UCS-2', segments: 2, length: 71 });
    expect(smsSegments('“quoted”')).toMatchObject({ encoding: 'UCS-2' });
    expect(smsSegments('a'.repeat(134) + '✓')).toMatchObject({ segments: 3, length: 135 });
  });

  it('counts emoji as two UTF-16 units and keeps surrogate pairs in one part', () => {
    expect(smsSegments('😀')).toEqual({ encoding: 'UCS-2', segments: 1, length: 2 });
    // 66 units + a 2-unit emoji: 68 > 67, the pair moves to the next part.
    expect(smsSegments(`${'a'.repeat(66)}😀${'a'.repeat(10)}`)).toMatchObject({ segments: 2, length: 78 });
  });
});

describe('smsSenderFor', () => {
  it('picks the adapter from the client’s provider', () => {
    const { ctx } = testProviderContext();
    const twilioClient = messagingClient('t1', { environment: 'live', sms: { provider: 'twilio', account_sid: `AC${'1'.repeat(32)}`, auth_token: 't', from_number: '+15005550006' } });
    const text180Sms = { provider: 'text180', auth_key: 'k', account_id: '1', short_code: '55512', keyword: 'K' } as const;
    const text180Client = messagingClient('t2', { environment: 'live', sms: text180Sms });
    // A test client naming no api_base_url never gets a sender: nothing may leave for the real vendor.
    expect(() => smsSenderFor(messagingClient('t4', { sms: text180Sms }), ctx)).toThrow(/test client without sms.api_base_url/);
    expect(smsSenderFor(twilioClient, ctx).provider).toBe('twilio');
    expect(typeof smsSenderFor(twilioClient, ctx).lookup).toBe('function');
    expect(smsSenderFor(text180Client, ctx).provider).toBe('text180');
    expect(smsSenderFor(text180Client, ctx).lookup).toBeUndefined();
    expect(() => smsSenderFor(messagingClient('t3', {}), ctx)).toThrow(/no SMS provider/);
  });

  it('isOptOutError recognises only Twilio 21610', () => {
    const error = (provider: 'twilio' | 'text180', code: string) => new ProviderError({ provider, operation: 'send_sms', message: 'x', retryable: false, code });
    expect(isOptOutError(error('twilio', '21610'))).toBe(true);
    expect(isOptOutError(error('twilio', '21211'))).toBe(false);
    expect(isOptOutError(error('text180', '21610'))).toBe(false);
    expect(isOptOutError(new Error('21610'))).toBe(false);
  });
});
