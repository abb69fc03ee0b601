import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTwilioFake, twilioMagicFrom, type TwilioFake } from '../../../test/fakes/twilio-fake.ts';
import { closedPortUrl, messagingClient, providerRequestCounts, testProviderContext } from '../../../test/helpers/messaging-clients.ts';
import { ProviderError } from '../../platform/provider-http.ts';
import { isOptOutError, smsSenderFor } from './sms.ts';
import { twilioSignature, verifyTwilioSignature } from './twilio.ts';

const sidA = `AC${'a'.repeat(32)}`;
const sidB = `AC${'b'.repeat(32)}`;
const tokenA = 'token-a-0123456789';
const tokenB = 'token-b-9876543210';

function twilioClient(id: string, sid: string, token: string, baseUrl: string, extra: Record<string, unknown> = {}) {
  return messagingClient(id, {
    sms: { provider: 'twilio', enabled: true, account_sid: sid, auth_token: token, from_number: twilioMagicFrom.valid, api_base_url: baseUrl, ...extra },
  });
}

async function sendError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('Twilio SMS adapter against the fake', () => {
  let fake: TwilioFake;
  beforeEach(async () => {
    fake = await startTwilioFake({ accounts: { [sidA]: tokenA, [sidB]: tokenB } });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends with From, Body and StatusCallback under the client’s Basic auth', async () => {
    const { ctx, metrics } = testProviderContext();
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    const result = await sender.send({ to: '+14155552671', body: 'See you Monday', statusCallbackUrl: 'https://api.example.com/api/webhooks/twilio/client-a/status', reference: 'msg-1' });

    expect(result.status).toBe('queued');
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${sidA}/Messages.json`);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${sidA}:${tokenA}`).toString('base64')}`);
    expect(request.body).toEqual({ To: '+14155552671', From: twilioMagicFrom.valid, Body: 'See you Monday', StatusCallback: 'https://api.example.com/api/webhooks/twilio/client-a/status' });
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/twilio/send_sms/ok': 1 });
  });

  it('sends through a messaging service without From', async () => {
    const { ctx } = testProviderContext();
    const client = messagingClient('client-ms', {
      sms: { provider: 'twilio', account_sid: sidA, auth_token: tokenA, messaging_service_sid: `MG${'c'.repeat(32)}`, api_base_url: fake.url },
    });
    await smsSenderFor(client, ctx).send({ to: '+14155552671', body: 'Hi', reference: 'msg-2' });
    expect(fake.requests[0]!.body).toEqual({ To: '+14155552671', MessagingServiceSid: `MG${'c'.repeat(32)}`, Body: 'Hi' });
  });

  it.each([
    ['+15005550001', '21211'],
    ['+15005550002', '21612'],
    ['+15005550003', '21408'],
    ['+15005550004', '21610'],
    ['+15005550009', '21614'],
  ])('maps To %s to a permanent ProviderError with code %s', async (to, code) => {
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx).send({ to, body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ provider: 'twilio', operation: 'send_sms', retryable: false, ambiguous: false, status: 400, code });
    expect(isOptOutError(error)).toBe(code === '21610');
  });

  it.each([
    [twilioMagicFrom.invalid, '21212', false],
    [twilioMagicFrom.notOwned, '21606', false],
    [twilioMagicFrom.queueFull, '21611', true],
  ])('maps From %s to code %s (retryable %s)', async (from, code, retryable) => {
    const { ctx } = testProviderContext();
    const client = twilioClient('client-a', sidA, tokenA, fake.url, { from_number: from });
    const error = await sendError(smsSenderFor(client, ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable, ambiguous: false, code });
  });

  it('maps 429 / 20429 to retryable', async () => {
    fake.mode = 'rate_limited';
    const { ctx, metrics } = testProviderContext();
    const error = await sendError(smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: true, ambiguous: false, status: 429, code: '20429' });
    // The SDK's own 429 retries are off: exactly one request.
    expect(fake.requests).toHaveLength(1);
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/twilio/send_sms/http_429': 1 });
  });

  it('maps a 503 to retryable (not processed) and a 500 on send to ambiguous (may have been queued)', async () => {
    fake.mode = 'down';
    const { ctx } = testProviderContext();
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    const down = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(down).toMatchObject({ retryable: true, ambiguous: false, status: 503 });
    fake.mode = 'error';
    const error = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: false, ambiguous: true, status: 500 });
  });

  it('maps a timeout after sending to ambiguous', async () => {
    fake.mode = 'hang';
    const { ctx, metrics } = testProviderContext();
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx, { timeoutMs: 300 });
    const error = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: false, ambiguous: true, code: 'timeout' });
    expect(fake.requests).toHaveLength(1);
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/twilio/send_sms/timeout': 1 });
  });

  it('maps a refused connection to retryable and not ambiguous (nothing was sent)', async () => {
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(twilioClient('client-a', sidA, tokenA, await closedPortUrl()), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: true, ambiguous: false, code: 'ECONNREFUSED' });
  });

  it('maps bad credentials (20003) to permanent', async () => {
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(twilioClient('client-a', sidA, 'wrong-token', fake.url), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: false, ambiguous: false, status: 401, code: '20003' });
  });

  it('opens the circuit after repeated failures and stops calling the provider', async () => {
    fake.mode = 'down';
    const { ctx, metrics } = testProviderContext({ failureThreshold: 2 });
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r1' }));
    await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r2' }));
    const error = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r3' }));
    expect(error).toMatchObject({ code: 'circuit_open', retryable: true, ambiguous: false });
    expect(fake.requests).toHaveLength(2);
    expect(ctx.breakers.state('client-a:twilio')).toBe('open');
    // Another client's circuit is its own.
    expect(ctx.breakers.state('client-b:twilio')).toBe('closed');
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/twilio/send_sms/http_503': 2, 'client-a/twilio/send_sms/circuit_open': 1 });
  });

  it('does not count permanent 4xx answers against the circuit', async () => {
    const { ctx } = testProviderContext({ failureThreshold: 2 });
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    for (let i = 0; i < 3; i += 1) await sendError(sender.send({ to: '+15005550001', body: 'x', reference: `r${i}` }));
    expect(ctx.breakers.state('client-a:twilio')).toBe('closed');
  });

  it('lookup finds a sent message by To, body and DateSent (for ambiguous sends)', async () => {
    const { ctx } = testProviderContext();
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    const before = new Date(Date.now() - 5_000);
    const sent = await sender.send({ to: '+14155552671', body: 'Your code is 1', reference: 'r1' });
    await sender.send({ to: '+14155552671', body: 'Something else', reference: 'r2' });

    const found = await sender.lookup!({ to: '+14155552671', body: 'Your code is 1', sentAfter: before });
    expect(found).toEqual({ providerMessageId: sent.providerMessageId, status: 'sent' });
    const listRequest = fake.requests.at(-1)!;
    expect(listRequest.method).toBe('GET');
    expect(listRequest.query.get('To')).toBe('+14155552671');
    expect(listRequest.query.get('DateSent>')).toBe(before.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(await sender.lookup!({ to: '+14155552671', body: 'never sent', sentAfter: before })).toBeUndefined();
    expect(await sender.lookup!({ to: '+14155552671', body: 'Your code is 1', sentAfter: new Date(Date.now() + 60_000) })).toBeUndefined();
  });

  it('lookup failures are retryable (reads are idempotent)', async () => {
    const { ctx } = testProviderContext();
    const sender = smsSenderFor(twilioClient('client-a', sidA, tokenA, fake.url), ctx);
    fake.mode = 'down';
    const error = await sendError(sender.lookup!({ to: '+14155552671', body: 'x', sentAfter: new Date() }));
    expect(error).toMatchObject({ operation: 'lookup_sms', retryable: true, ambiguous: false, status: 503 });
  });
});

describe('Twilio isolation between clients', () => {
  it('every request each fake receives carries only its own client’s credentials', async () => {
    const fakeA = await startTwilioFake({ accounts: { [sidA]: tokenA } });
    const fakeB = await startTwilioFake({ accounts: { [sidB]: tokenB } });
    const previous = { sid: process.env.TWILIO_ACCOUNT_SID, token: process.env.TWILIO_AUTH_TOKEN };
    // Environment fallbacks must never be used.
    process.env.TWILIO_ACCOUNT_SID = sidB;
    process.env.TWILIO_AUTH_TOKEN = tokenB;
    try {
      const { ctx } = testProviderContext();
      const senderA = smsSenderFor(twilioClient('client-a', sidA, tokenA, fakeA.url), ctx);
      const senderB = smsSenderFor(twilioClient('client-b', sidB, tokenB, fakeB.url), ctx);
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? senderA : senderB).send({ to: '+14155552671', body: `message ${i}`, reference: `r${i}` }),
        ),
      );
      await senderA.lookup!({ to: '+14155552671', body: 'message 0', sentAfter: new Date(Date.now() - 60_000) });
      const basic = (sid: string, token: string) => `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`;
      expect(fakeA.requests).toHaveLength(4);
      expect(fakeB.requests).toHaveLength(3);
      for (const request of fakeA.requests) {
        expect(request.headers.authorization).toBe(basic(sidA, tokenA));
        expect(request.path).toContain(sidA);
      }
      for (const request of fakeB.requests) {
        expect(request.headers.authorization).toBe(basic(sidB, tokenB));
        expect(request.path).toContain(sidB);
      }
      expect(fakeA.messages.map((m) => m.body).sort()).toEqual(['message 0', 'message 2', 'message 4']);
      expect(fakeB.messages.map((m) => m.body).sort()).toEqual(['message 1', 'message 3', 'message 5']);
    } finally {
      if (previous.sid === undefined) delete process.env.TWILIO_ACCOUNT_SID;
      else process.env.TWILIO_ACCOUNT_SID = previous.sid;
      if (previous.token === undefined) delete process.env.TWILIO_AUTH_TOKEN;
      else process.env.TWILIO_AUTH_TOKEN = previous.token;
      await fakeA.close();
      await fakeB.close();
    }
  });
});

describe('verifyTwilioSignature', () => {
  const vectorUrl = 'https://example.com/twilio/status?tenant=t1';
  const vectorParams = { MessageSid: 'SMx', MessageStatus: 'delivered', To: '+15551234567' };

  it('matches the reference vector', () => {
    expect(twilioSignature('12345', vectorUrl, vectorParams)).toBe('+nH0JL3FZ3iK1VrFNK6FYhYKKzM=');
    expect(verifyTwilioSignature('12345', vectorUrl, vectorParams, '+nH0JL3FZ3iK1VrFNK6FYhYKKzM=')).toBe(true);
    expect(twilio.validateRequest('12345', '+nH0JL3FZ3iK1VrFNK6FYhYKKzM=', vectorUrl, vectorParams)).toBe(true);
  });

  it('rejects a wrong token, a changed param, a changed URL and a missing header', () => {
    const signature = '+nH0JL3FZ3iK1VrFNK6FYhYKKzM=';
    expect(verifyTwilioSignature('54321', vectorUrl, vectorParams, signature)).toBe(false);
    expect(verifyTwilioSignature('12345', vectorUrl, { ...vectorParams, MessageStatus: 'failed' }, signature)).toBe(false);
    expect(verifyTwilioSignature('12345', `${vectorUrl}2`, vectorParams, signature)).toBe(false);
    expect(verifyTwilioSignature('12345', vectorUrl, vectorParams, undefined)).toBe(false);
    expect(verifyTwilioSignature('12345', vectorUrl, vectorParams, '')).toBe(false);
    expect(verifyTwilioSignature('12345', vectorUrl, vectorParams, 'short')).toBe(false);
  });

  it('accepts the URL with or without the default port, like twilio.validateRequest', () => {
    const signedWithPort = twilio.getExpectedTwilioSignature('tok', 'https://example.com:443/cb?x=1', vectorParams);
    const signedWithoutPort = twilio.getExpectedTwilioSignature('tok', 'https://example.com/cb?x=1', vectorParams);
    expect(verifyTwilioSignature('tok', 'https://example.com/cb?x=1', vectorParams, signedWithPort)).toBe(true);
    expect(verifyTwilioSignature('tok', 'https://example.com:443/cb?x=1', vectorParams, signedWithoutPort)).toBe(true);
    expect(verifyTwilioSignature('tok', 'http://example.com/cb', {}, twilio.getExpectedTwilioSignature('tok', 'http://example.com:80/cb', {}))).toBe(true);
    // A non-default port is part of the URL.
    expect(verifyTwilioSignature('tok', 'https://example.com:8443/cb?x=1', vectorParams, signedWithoutPort)).toBe(false);
  });

  it('agrees with twilio.validateRequest on varied params, repeated values and unicode', () => {
    const cases: Array<[string, Record<string, string | string[]>]> = [
      ['https://api.example.com/api/webhooks/twilio/client-a/status', { MessageSid: 'SM1', SmsStatus: 'sent', ErrorCode: '', Body: 'héllo ✓ & <b>' }],
      ['https://api.example.com/in?a=1&b=%27q%27', { b: ['2', '1', '2'], a: 'x', A: 'y', _z: 'z' }],
      ['http://127.0.0.1:3000/cb', {}],
    ];
    for (const [url, params] of cases) {
      const expected = twilio.getExpectedTwilioSignature('secret-token', url, params);
      expect(twilioSignature('secret-token', url, params)).toBe(expected);
      expect(verifyTwilioSignature('secret-token', url, params, expected)).toBe(true);
      expect(twilio.validateRequest('secret-token', expected, url, params)).toBe(true);
    }
  });
});
