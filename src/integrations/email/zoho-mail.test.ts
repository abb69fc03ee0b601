import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedUrl, startZohoFake, type ZohoFake } from '../../../test/fakes/zoho-fake.ts';
import { uniqueId } from '../../../test/helpers/test-app.ts';
import { createCircuitBreakers, ProviderError, type ProviderContext } from '../../platform/provider-http.ts';
import { createMemoryCache } from '../../platform/redis.ts';
import { createZohoMailSender, type ZohoMailConfig } from './zoho-mail.ts';

const context = (): ProviderContext => ({ fetch, breakers: createCircuitBreakers({ failureThreshold: 50, openMs: 30_000 }) });
const message = { to: 'jane.roe@example.com', toName: 'Jane Roe', subject: 'Your appointment', text: 'See you Monday 10:00.', html: '<p>See you Monday 10:00.</p>', reference: 'msg_1' };

describe('Zoho Mail sender (contract against the fake)', () => {
  let fake: ZohoFake;
  beforeAll(async () => {
    fake = await startZohoFake();
  });
  afterAll(() => fake.close());

  function client() {
    const id = uniqueId('zm');
    const address = `owner@${id}.example`;
    const config: ZohoMailConfig = {
      provider: 'zoho',
      enabled: true,
      account_id: `acct-${id}`,
      data_center: 'us',
      oauth: { client_id: `1000.${id}`, client_secret: `secret-${id}`, refresh_token: `1000.refresh.${id}` },
      from: `Biz ${id} <${address}>`,
      api_base_url: fake.url,
      accounts_base_url: fake.url,
    };
    fake.addAccount({
      clientId: config.oauth.client_id,
      clientSecret: config.oauth.client_secret,
      refreshToken: config.oauth.refresh_token,
      userEmail: address,
      calendars: [],
      mailAccountId: config.account_id,
      fromAddresses: [address],
    });
    const sender = createZohoMailSender({ ctx: context(), clientId: id, config, cache: createMemoryCache() });
    return { id, config, address, sender };
  }

  const mailRequests = (accountId: string) => fake.requests.filter((r) => r.path === `/api/accounts/${accountId}/messages`);

  it('posts the documented JSON with the client token and never sends `mode`', async () => {
    const { config, address, sender } = client();
    const result = await sender.send(message);
    expect(result.providerMessageId).toMatch(/^\d+$/);
    const [request] = mailRequests(config.account_id);
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toMatch(/^Zoho-oauthtoken 1000\./);
    expect(request?.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request!.body);
    expect(body).toEqual({ fromAddress: address, toAddress: 'jane.roe@example.com', subject: 'Your appointment', content: '<p>See you Monday 10:00.</p>', mailFormat: 'html' });
    expect('mode' in body).toBe(false);
    expect(sender.provider).toBe('zoho');
  });

  it('rejects an address the account does not own as a permanent error', async () => {
    const { config, sender } = client();
    const other = createZohoMailSender({ ctx: context(), clientId: uniqueId('zm'), config: { ...config, from: 'someone@else.example' }, cache: createMemoryCache() });
    void sender;
    const error = await other.send(message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'zoho_mail', status: 400, code: 'INVALID_FROM_ADDRESS', retryable: false, ambiguous: false });
  });

  it('on 401 refreshes the token once and sends exactly once', async () => {
    const { config, sender } = client();
    await sender.send(message);
    fake.expireAccessTokens();
    const before = fake.mails.length;
    await sender.send(message);
    expect(fake.mails.length).toBe(before + 1);
    expect(fake.refreshCount(config.oauth.refresh_token)).toBe(2);
  });

  it('a 500 is ambiguous (never resent blindly); a 503 and a refused connection are retryable', async () => {
    const { config, sender } = client();
    await sender.send(message); // token cached before the outage
    fake.setDown(true);
    try {
      await expect(sender.send(message)).rejects.toMatchObject({ status: 503, ambiguous: false, retryable: true });
      fake.setDown(500);
      await expect(sender.send(message)).rejects.toMatchObject({ status: 500, ambiguous: true, retryable: false });
    } finally {
      fake.setDown(false);
    }
    const offline = createZohoMailSender({
      ctx: context(),
      clientId: uniqueId('zm'),
      config: { ...config, api_base_url: await refusedUrl() },
      cache: createMemoryCache(),
      tokens: { getAccessToken: async () => 'token', invalidate: async () => undefined },
    });
    await expect(offline.send(message)).rejects.toMatchObject({ retryable: true, ambiguous: false });
  });

  it('surfaces revoked credentials (HTTP 200 invalid_code) as a permanent token error', async () => {
    const { config, sender } = client();
    fake.setTokenMode(config.oauth.refresh_token, 'invalid_code');
    await expect(sender.send(message)).rejects.toMatchObject({ provider: 'zoho_accounts', code: 'invalid_code', retryable: false });
    expect(mailRequests(config.account_id)).toHaveLength(0);
  });

  it('isolation: two clients in one process each send with only their own credentials', async () => {
    const a = client();
    const b = client();
    await Promise.all([a.sender.send(message), b.sender.send(message), a.sender.send(message), b.sender.send(message)]);
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const sent = mailRequests(self.config.account_id);
      expect(sent).toHaveLength(2);
      for (const request of sent) {
        expect(request.account).toBe(self.config.oauth.refresh_token);
        expect(JSON.parse(request.body).fromAddress).toBe(self.address);
      }
      const tokenRequests = fake.tokenRequestsFor(self.config.oauth.refresh_token);
      expect(tokenRequests).toHaveLength(1);
      expect(tokenRequests[0]?.body).toContain(encodeURIComponent(self.config.oauth.client_id));
      expect(tokenRequests[0]?.body).not.toContain(encodeURIComponent(other.config.oauth.client_id));
    }
  });
});
