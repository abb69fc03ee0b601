import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedUrl, startZohoFake, type ZohoFake } from '../../../test/fakes/zoho-fake.ts';
import { uniqueId } from '../../../test/helpers/test-app.ts';
import { createCircuitBreakers, ProviderError, type ProviderContext } from '../../platform/provider-http.ts';
import { createMemoryCache } from '../../platform/redis.ts';
import { createZohoTokenSource, isZohoPermanentAuthError, zohoAccountsBaseUrl, zohoCalendarBaseUrl, zohoMailBaseUrl } from './zoho-oauth.ts';

const context = (): ProviderContext => ({ fetch, breakers: createCircuitBreakers({ failureThreshold: 50, openMs: 30_000 }) });

describe('Zoho OAuth token source', () => {
  let fake: ZohoFake;
  beforeAll(async () => {
    fake = await startZohoFake();
  });
  afterAll(() => fake.close());

  function account() {
    const id = uniqueId('zo');
    const oauth = { client_id: `1000.${id}`, client_secret: `secret-${id}`, refresh_token: `1000.refresh.${id}` };
    fake.addAccount({ clientId: oauth.client_id, clientSecret: oauth.client_secret, refreshToken: oauth.refresh_token, userEmail: `${id}@biz.example`, calendars: [] });
    return { id, oauth };
  }

  it('maps data centers to accounts and product hosts, and accepts overrides', () => {
    expect(zohoAccountsBaseUrl('us')).toBe('https://accounts.zoho.com');
    expect(zohoAccountsBaseUrl('au')).toBe('https://accounts.zoho.com.au');
    expect(zohoAccountsBaseUrl('ca')).toBe('https://accounts.zohocloud.ca');
    expect(zohoAccountsBaseUrl('cn')).toBe('https://accounts.zoho.com.cn');
    expect(zohoCalendarBaseUrl('eu')).toBe('https://calendar.zoho.eu/api/v1');
    expect(zohoMailBaseUrl('in')).toBe('https://mail.zoho.in/api');
    expect(zohoCalendarBaseUrl('us', 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/api/v1');
    expect(zohoMailBaseUrl('us', 'http://127.0.0.1:9/api')).toBe('http://127.0.0.1:9/api');
  });

  it('refreshes once for 100 concurrent callers and then serves the cached token', async () => {
    const { id, oauth } = account();
    const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getAccessToken()));
    expect(new Set(results).size).toBe(1);
    expect(fake.refreshCount(oauth.refresh_token)).toBe(1);
    await tokens.getAccessToken();
    expect(fake.refreshCount(oauth.refresh_token)).toBe(1);
    const [request] = fake.tokenRequestsFor(oauth.refresh_token);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      grant_type: 'refresh_token',
      client_id: oauth.client_id,
      client_secret: oauth.client_secret,
      refresh_token: oauth.refresh_token,
    });
  });

  it('single-flights across token sources built separately for the same client (services built per request)', async () => {
    const { id, oauth } = account();
    const cache = createMemoryCache();
    const build = () => createZohoTokenSource({ ctx: context(), cache, clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
    await Promise.all(Array.from({ length: 20 }, () => build().getAccessToken()));
    expect(fake.refreshCount(oauth.refresh_token)).toBe(1);
  });

  it('keeps the token until 5 minutes before expiry', async () => {
    const { id, oauth } = account();
    let clock = Date.parse('2026-03-02T12:00:00Z');
    const cache = createMemoryCache(() => clock);
    const tokens = createZohoTokenSource({ ctx: context(), cache, clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
    const first = await tokens.getAccessToken();
    clock += (3600 - 301) * 1000;
    expect(await tokens.getAccessToken()).toBe(first);
    clock += 2_000;
    expect(await tokens.getAccessToken()).not.toBe(first);
    expect(fake.refreshCount(oauth.refresh_token)).toBe(2);
  });

  it('invalidate(rejected) drops only that token', async () => {
    const { id, oauth } = account();
    const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
    const first = await tokens.getAccessToken();
    await tokens.invalidate('some-older-token');
    expect(await tokens.getAccessToken()).toBe(first);
    await tokens.invalidate(first);
    expect(await tokens.getAccessToken()).not.toBe(first);
  });

  for (const mode of ['invalid_code', 'invalid_client', 'invalid_client_secret'] as const) {
    it(`treats HTTP 200 {"error":"${mode}"} as a permanent error and stops asking for a minute`, async () => {
      const { id, oauth } = account();
      fake.setTokenMode(oauth.refresh_token, mode);
      const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
      const error = await tokens.getAccessToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'zoho_accounts', code: mode, retryable: false, status: 200 });
      expect(isZohoPermanentAuthError(error)).toBe(true);
      await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: mode });
      expect(fake.refreshCount(oauth.refresh_token)).toBe(1);
    });
  }

  it('reports wrong credentials the way Zoho does (invalid_client for an unknown client id)', async () => {
    const { id, oauth } = account();
    const tokens = createZohoTokenSource({
      ctx: context(),
      cache: createMemoryCache(),
      clientId: id,
      dataCenter: 'us',
      oauth: { ...oauth, client_id: '1000.WRONG' },
      accountsBaseUrl: fake.url,
    });
    await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'invalid_client', retryable: false });
  });

  it('treats the "Access Denied" throttle body as retryable later and stops refreshing meanwhile', async () => {
    const { id, oauth } = account();
    fake.setTokenMode(oauth.refresh_token, 'throttle');
    const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
    const error = await tokens.getAccessToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'access_denied', retryable: true, retryAfterSeconds: 900 });
    expect(isZohoPermanentAuthError(error)).toBe(false);
    await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'access_denied', retryable: true });
    expect(fake.refreshCount(oauth.refresh_token)).toBe(1);
  });

  it('a provider outage is retryable', async () => {
    const { id, oauth } = account();
    fake.setDown(true);
    try {
      const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: fake.url });
      await expect(tokens.getAccessToken()).rejects.toMatchObject({ status: 503, retryable: true });
    } finally {
      fake.setDown(false);
    }
  });

  it('a connection failure is retryable (token refresh is idempotent)', async () => {
    const { id, oauth } = account();
    const tokens = createZohoTokenSource({ ctx: context(), cache: createMemoryCache(), clientId: id, dataCenter: 'us', oauth, accountsBaseUrl: await refusedUrl() });
    await expect(tokens.getAccessToken()).rejects.toMatchObject({ provider: 'zoho_accounts', retryable: true });
  });
});
