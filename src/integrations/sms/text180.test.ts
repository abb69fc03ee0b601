import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startText180Fake, xmlElement, type Text180Fake } from '../../../test/fakes/text180-fake.ts';
import { closedPortUrl, messagingClient, providerRequestCounts, testProviderContext } from '../../../test/helpers/messaging-clients.ts';
import { ProviderError } from '../../platform/provider-http.ts';
import { smsSenderFor } from './sms.ts';
import { cdata, escapeXml, text180SendXml } from './text180.ts';

function text180Client(id: string, authKey: string, accountId: string, url: string) {
  return messagingClient(id, {
    sms: { provider: 'text180', enabled: true, auth_key: authKey, account_id: accountId, short_code: '8885550100', keyword: `KW${id.toUpperCase()}`, api_base_url: url },
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

describe('Text180 SMS adapter against the fake', () => {
  let fake: Text180Fake;
  beforeEach(async () => {
    fake = await startText180Fake({ accounts: { 'key-a': '4411', 'key-b': '5522' } });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('posts the XML document and treats <ok/> as sent', async () => {
    const { ctx, metrics } = testProviderContext();
    const result = await smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx).send({ to: '+14155552671', body: 'See you Mon 10:00', reference: 'r1' });
    expect(result).toEqual({ status: 'sent' });
    expect(fake.messages).toEqual([
      { authKey: 'key-a', accountId: '4411', shortCode: '8885550100', keyword: 'KWCLIENT-A', message: 'See you Mon 10:00', contacts: ['+14155552671'] },
    ]);
    expect(fake.requests[0]!.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(await providerRequestCounts(metrics)).toEqual({ 'client-a/text180/send_sms/ok': 1 });
  });

  it('carries markup, ]]> and entities in the message through unchanged', async () => {
    const { ctx } = testProviderContext();
    const body = 'a ]]> b <ok/> & "c" \'d\' ]]]]>';
    await smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx).send({ to: '+14155552671', body, reference: 'r1' });
    expect(fake.messages[0]!.message).toBe(body);
  });

  it('maps an <error> reply with HTTP 200 to a permanent failure', async () => {
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(text180Client('client-a', 'wrong-key', '4411', fake.sendUrl), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ provider: 'text180', retryable: false, ambiguous: false, status: 200, code: 'rejected' });
    expect(error.message).toContain('Invalid auth key');
  });

  it('refuses non-US numbers before calling the provider', async () => {
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx).send({ to: '+447911123456', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: false, code: 'unsupported_destination' });
    expect(fake.requests).toHaveLength(0);
  });

  it('maps 429 to retryable with Retry-After', async () => {
    fake.mode = 'rate_limited';
    const { ctx } = testProviderContext();
    const error = await sendError(smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: true, ambiguous: false, status: 429, retryAfterSeconds: 30 });
  });

  it('maps 503 to retryable and other 5xx to ambiguous (no dedupe exists: never resend blindly)', async () => {
    fake.mode = 'down';
    const { ctx } = testProviderContext();
    const sender = smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx);
    const down = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(down).toMatchObject({ retryable: true, ambiguous: false, status: 503 });
    fake.mode = 'error';
    const error = await sendError(sender.send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(error).toMatchObject({ retryable: false, ambiguous: true, status: 500 });
  });

  it('maps a timeout to ambiguous and a refused connection to retryable', async () => {
    fake.mode = 'hang';
    const { ctx } = testProviderContext();
    const timedOut = await sendError(smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx, { timeoutMs: 200 }).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(timedOut).toMatchObject({ retryable: false, ambiguous: true, code: 'timeout' });
    const refused = await sendError(smsSenderFor(text180Client('client-a', 'key-a', '4411', `${await closedPortUrl()}/members/api.php`), ctx).send({ to: '+14155552671', body: 'x', reference: 'r' }));
    expect(refused).toMatchObject({ retryable: true, ambiguous: false, code: 'ECONNREFUSED' });
  });

  it('isolation: each client’s requests carry only its own auth key and account', async () => {
    const otherFake = await startText180Fake({ accounts: { 'key-b': '5522' } });
    try {
      const { ctx } = testProviderContext();
      const senderA = smsSenderFor(text180Client('client-a', 'key-a', '4411', fake.sendUrl), ctx);
      const senderB = smsSenderFor(text180Client('client-b', 'key-b', '5522', otherFake.sendUrl), ctx);
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? senderA : senderB).send({ to: '+14155552671', body: `m${i}`, reference: `r${i}` })));
      expect(fake.requests.map((r) => [xmlElement(r.rawBody, 'auth_key'), xmlElement(r.rawBody, 'account_id')])).toEqual(Array(3).fill(['key-a', '4411']));
      expect(otherFake.requests.map((r) => [xmlElement(r.rawBody, 'auth_key'), xmlElement(r.rawBody, 'account_id')])).toEqual(Array(3).fill(['key-b', '5522']));
    } finally {
      await otherFake.close();
    }
  });
});

describe('Text180 XML building', () => {
  it('escapes element text and splits CDATA around ]]>', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    expect(cdata('x]]>y')).toBe('<![CDATA[x]]]]><![CDATA[>y]]>');
    expect(cdata('bell\u0007 ok')).toBe('<![CDATA[bell ok]]>');
  });

  it('escapes config values so a key cannot inject elements', () => {
    const xml = text180SendXml({ auth_key: 'k</auth_key><command>evil', account_id: '1', short_code: '55512', keyword: 'K' }, '+14155552671', 'hi');
    expect(xml.match(/<command>/g)).toHaveLength(1);
    expect(xmlElement(xml, 'auth_key')).toBe('k</auth_key><command>evil');
  });
});
