import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSendgridFake, type SendgridFake } from '../../../test/fakes/sendgrid-fake.ts';
import { closedPortUrl, messagingClient, providerRequestCounts, testProviderContext } from '../../../test/helpers/messaging-clients.ts';
import { ProviderError } from '../../platform/provider-http.ts';
import { emailSenderFor } from './email.ts';
import { createSendgridSender, parseMailbox } from './sendgrid.ts';

const keyA = 'SG.client-a-key';
const keyB = 'SG.client-b-key';

function sendgridClient(id: string, apiKey: string, baseUrl: string, from = `Business ${id} <hello@${id}.example>`) {
  return messagingClient(id, { email: { provider: 'sendgrid', enabled: true, api_key: apiKey, from, api_base_url: baseUrl } });
}

const message = { to: 'jane.roe@example.com', toName: 'Jane Roe', subject: 'Your call', text: 'Plain body', html: '<p>HTML body</p>', replyTo: 'desk@biz.example', reference: 'msg-42' };

async function sendError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('SendGrid adapter against the fake', () => {
  let fake: SendgridFake;
  beforeEach(async () => {
    fake = await startSendgridFake({ apiKeys: [keyA, keyB] });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends from the client’s own address with text then html, custom_args, and returns X-Message-Id', async () => {
    const { ctx, metrics } = testProviderContext();
    const result = await emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx).send(message);
    expect(fake.mails).toHaveLength(1);
    expect(result).toEqual({ providerMessageId: fake.mails[0]!.messageId });
    const request = fake.requests[0]!;
    expect(request.path).toBe('/v3/mail/send');
    expect(request.headers.authorization).toBe(`Bearer ${keyA}`);
    expect(request.body).toMatchObject({
      personalizations: [{ to: [{ email: 'jane.roe@example.com', name: 'Jane Roe' }] }],
      from: { email: 'hello@client-a.example', name: 'Business client-a' },
      reply_to: { email: 'desk@biz.example' },
      subject: 'Your call',
      content: [
        { type: 'text/plain', value: 'Plain body' },
        { type: 'text/html', value: '<p>HTML body</p>' },
      ],
      custom_args: { reference: 'msg-42' },
    });
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/sendgrid/send_email/ok': 1 });
  });

  it('maps a 400 errors body to a permanent failure with the reasons', async () => {
    const { ctx } = testProviderContext();
    const error = await sendError(emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx).send({ ...message, subject: '' }));
    expect(error).toMatchObject({ provider: 'sendgrid', retryable: false, ambiguous: false, status: 400, code: 'http_400' });
    expect(error.message).toContain('subject');
  });

  it('maps 401 (bad key) and 403 (unverified sender) to permanent', async () => {
    const { ctx } = testProviderContext();
    const unauthorized = await sendError(emailSenderFor(sendgridClient('client-a', 'SG.revoked', fake.url), ctx).send(message));
    expect(unauthorized).toMatchObject({ retryable: false, ambiguous: false, status: 401 });
    expect(unauthorized.message).toContain('authorization grant is invalid');

    const strict = await startSendgridFake({ apiKeys: [keyA], verifiedSenders: ['verified@client-a.example'] });
    try {
      const forbidden = await sendError(emailSenderFor(sendgridClient('client-a', keyA, strict.url), ctx).send(message));
      expect(forbidden).toMatchObject({ retryable: false, status: 403 });
    } finally {
      await strict.close();
    }
  });

  it('maps 429 to retryable with the rate-limit reset', async () => {
    fake.mode = 'rate_limited';
    const { ctx } = testProviderContext();
    const error = await sendError(emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx).send(message));
    expect(error).toMatchObject({ retryable: true, ambiguous: false, status: 429 });
    expect(error.retryAfterSeconds).toBeGreaterThan(50);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it('maps 503 to retryable (not processed), 500 and a timeout to ambiguous, a refused connection to retryable', async () => {
    const { ctx } = testProviderContext();
    fake.mode = 'down';
    const down = await sendError(emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx).send(message));
    expect(down).toMatchObject({ retryable: true, ambiguous: false, status: 503 });
    fake.mode = 'error';
    const broken = await sendError(emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx).send(message));
    expect(broken).toMatchObject({ retryable: false, ambiguous: true, status: 500 });

    fake.mode = 'hang';
    const client = sendgridClient('client-a', keyA, fake.url);
    const email = client.config.email;
    if (email?.provider !== 'sendgrid') throw new Error('unreachable');
    const timedOut = await sendError(createSendgridSender('client-a', email, ctx, { timeoutMs: 200 }).send(message));
    expect(timedOut).toMatchObject({ retryable: false, ambiguous: true, code: 'timeout' });

    const refused = await sendError(emailSenderFor(sendgridClient('client-a', keyA, await closedPortUrl()), ctx).send(message));
    expect(refused).toMatchObject({ retryable: true, ambiguous: false, code: 'ECONNREFUSED' });
  });

  it('sandbox mode answers 200 and the fake records it as sandbox', async () => {
    // The adapter never sets sandbox mode itself (test clients send nothing); this checks the fake.
    const response = await fetch(`${fake.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'a@example.com' }] }],
        from: { email: 'b@example.com' },
        subject: 's',
        content: [{ type: 'text/plain', value: 't' }],
        mail_settings: { sandbox_mode: { enable: true } },
      }),
    });
    expect(response.status).toBe(200);
    expect(fake.mails[0]!.sandbox).toBe(true);
  });

  it('isolation: each client’s requests carry only its own API key and sender', async () => {
    const otherFake = await startSendgridFake({ apiKeys: [keyB] });
    try {
      const { ctx } = testProviderContext();
      const senderA = emailSenderFor(sendgridClient('client-a', keyA, fake.url), ctx);
      const senderB = emailSenderFor(sendgridClient('client-b', keyB, otherFake.url), ctx);
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? senderA : senderB).send({ ...message, reference: `r${i}` })));
      expect(fake.requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${keyA}`));
      expect(otherFake.requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${keyB}`));
      expect(fake.mails.every((m) => (m.body.from as { email: string }).email === 'hello@client-a.example')).toBe(true);
      expect(otherFake.mails.every((m) => (m.body.from as { email: string }).email === 'hello@client-b.example')).toBe(true);
    } finally {
      await otherFake.close();
    }
  });
});

describe('emailSenderFor', () => {
  it('picks the adapter from the client’s provider, and throws a clear error without email', () => {
    const { ctx } = testProviderContext();
    expect(emailSenderFor(sendgridClient('client-a', keyA, 'http://127.0.0.1:1'), ctx).provider).toBe('sendgrid');
    const zohoEmail = { provider: 'zoho', account_id: '123', data_center: 'us', oauth: { client_id: '1000.X', client_secret: 's', refresh_token: 'r' }, from: 'Z <z@z.example>' } as const;
    expect(emailSenderFor(messagingClient('client-z', { environment: 'live', email: zohoEmail }), ctx).provider).toBe('zoho');
    // A test client naming no api_base_url never gets a sender: nothing may leave for the real vendor.
    expect(() => emailSenderFor(messagingClient('client-zt', { email: zohoEmail }), ctx)).toThrow(/test client without email.api_base_url/);
    expect(() => emailSenderFor(messagingClient('no-email', {}), ctx)).toThrow(/no email provider/);
  });
});

describe('parseMailbox', () => {
  it('reads "Name <addr>", quoted names and bare addresses', () => {
    expect(parseMailbox('Biz Dental <bookings@biz.example>')).toEqual({ email: 'bookings@biz.example', name: 'Biz Dental' });
    expect(parseMailbox('"Biz, Inc." <a@b.example>')).toEqual({ email: 'a@b.example', name: 'Biz, Inc.' });
    expect(parseMailbox('a@b.example')).toEqual({ email: 'a@b.example' });
    expect(parseMailbox('<a@b.example>')).toEqual({ email: 'a@b.example' });
  });
});
