/**
 * Zoho OAuth (refresh-token grant) per client and data center, shared by Zoho Calendar and Zoho
 * Mail. Access tokens live about an hour and Zoho throttles refreshes hard (a throttled refresh
 * token stays blocked for 15-30 minutes), so a token is cached until 5 minutes before expiry and
 * refreshed by one caller at a time.
 */
import { createHash } from 'node:crypto';
import type { ZohoDataCenter } from '../../clients/client.schema.ts';
import { ProviderError, providerFetch, readCapped, type ProviderContext } from '../../platform/provider-http.ts';
import { clientKey, type KeyValueCache } from '../../platform/redis.ts';

/** Domain suffix per data center; CA/SA/UK product hosts are assumed to follow the accounts host. */
const zohoDomains = {
  us: 'zoho.com',
  eu: 'zoho.eu',
  in: 'zoho.in',
  au: 'zoho.com.au',
  jp: 'zoho.jp',
  cn: 'zoho.com.cn',
  ca: 'zohocloud.ca',
  sa: 'zoho.sa',
  uk: 'zoho.uk',
} as const satisfies Record<ZohoDataCenter, string>;

export function zohoAccountsBaseUrl(dataCenter: ZohoDataCenter): string {
  return `https://accounts.${zohoDomains[dataCenter]}`;
}

/** Zoho Calendar API v1 base, e.g. `https://calendar.zoho.eu/api/v1`. */
export function zohoCalendarBaseUrl(dataCenter: ZohoDataCenter, override?: string): string {
  return withApiPath(override ?? `https://calendar.${zohoDomains[dataCenter]}`, '/api/v1');
}

/** Zoho Mail API base, e.g. `https://mail.zoho.com/api`. */
export function zohoMailBaseUrl(dataCenter: ZohoDataCenter, override?: string): string {
  return withApiPath(override ?? `https://mail.${zohoDomains[dataCenter]}`, '/api');
}

/** An override may be given as a host (`http://127.0.0.1:4000`) or with the API path already on it. */
function withApiPath(base: string, apiPath: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith(apiPath) ? trimmed : `${trimmed}${apiPath}`;
}

export interface ZohoOAuthCredentials {
  readonly client_id: string;
  readonly client_secret: string;
  readonly refresh_token: string;
}

/**
 * Token endpoint errors that only a person can fix (revoked or wrong refresh token, wrong client or
 * data center). Callers mark the integration broken instead of retrying.
 */
export const zohoPermanentAuthErrors = ['invalid_code', 'invalid_client', 'invalid_client_secret'] as const;
export type ZohoPermanentAuthError = (typeof zohoPermanentAuthErrors)[number];

export function isZohoPermanentAuthError(error: unknown): error is ProviderError & { code: ZohoPermanentAuthError } {
  return (
    error instanceof ProviderError &&
    error.provider === 'zoho_accounts' &&
    (zohoPermanentAuthErrors as readonly string[]).includes(error.code ?? '')
  );
}

export interface ZohoTokenSource {
  getAccessToken(): Promise<string>;
  /**
   * Drops the cached token after the API rejected it (401). Given the rejected token, a newer
   * token cached by a concurrent caller is kept, so a burst of 401s causes one refresh.
   */
  invalidate(rejectedToken?: string): Promise<void>;
}

export interface ZohoTokenSourceOptions {
  ctx: ProviderContext;
  cache: KeyValueCache;
  clientId: string;
  dataCenter: ZohoDataCenter;
  oauth: ZohoOAuthCredentials;
  accountsBaseUrl?: string | undefined;
  timeoutMs?: number;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
/** Zoho's refresh throttle clears only after 15-30 minutes without refreshes; refreshing sooner extends it. */
const THROTTLE_BACKOFF_SECONDS = 15 * 60;
/** A broken credential is re-checked at most this often, so a call surge cannot hammer the token endpoint. */
const PERMANENT_ERROR_BACKOFF_MS = 60_000;

/** Concurrent refreshes per token cache key. Module-wide on purpose: services are built per request. */
const refreshesInFlight = new Map<string, Promise<string>>();

type BlockedEntry = { code: string; message: string; retryable: boolean; until: number };

export function createZohoTokenSource(options: ZohoTokenSourceOptions): ZohoTokenSource {
  const { ctx, cache, clientId, oauth } = options;
  const accountsBaseUrl = (options.accountsBaseUrl ?? zohoAccountsBaseUrl(options.dataCenter)).replace(/\/+$/, '');
  const now = ctx.now ?? Date.now;
  // The whole credential is in the key: fixing a secret in config takes effect at once, and two
  // products sharing one consent share one token.
  const credentialHash = createHash('sha256')
    .update([accountsBaseUrl, oauth.client_id, oauth.client_secret, oauth.refresh_token].join('\n'))
    .digest('hex')
    .slice(0, 24);
  const tokenKey = clientKey(clientId, 'zoho', 'access-token', credentialHash);
  const blockedKey = clientKey(clientId, 'zoho', 'token-blocked', credentialHash);

  const fail = (fields: { message: string; retryable: boolean; code: string; status?: number; retryAfterSeconds?: number }) =>
    new ProviderError({ provider: 'zoho_accounts', operation: 'token_refresh', ...fields });

  async function refresh(): Promise<string> {
    const blockedRaw = await cache.get(blockedKey);
    if (blockedRaw) {
      const blocked = JSON.parse(blockedRaw) as BlockedEntry;
      throw fail({
        message: `Zoho token refresh is paused for this client: ${blocked.message}`,
        retryable: blocked.retryable,
        code: blocked.code,
        retryAfterSeconds: Math.max(1, Math.ceil((blocked.until - now()) / 1000)),
      });
    }
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: oauth.client_id,
      client_secret: oauth.client_secret,
      refresh_token: oauth.refresh_token,
    });
    const response = await providerFetch(ctx, {
      clientId,
      provider: 'zoho_accounts',
      operation: 'token_refresh',
      url: `${accountsBaseUrl}/oauth/v2/token`,
      init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body },
      timeoutMs: options.timeoutMs ?? 5_000,
      idempotent: true,
    });
    const text = await readCapped(response, 64 * 1024);
    const json = parseJson(text);
    // Zoho reports token errors in the body, often with HTTP 200: check the body first.
    const error = typeof json?.error === 'string' ? json.error : undefined;
    const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
    if (error === 'Access Denied' || /too many requests/i.test(description ?? '')) {
      const blocked: BlockedEntry = {
        code: 'access_denied',
        message: description ?? 'too many token requests',
        retryable: true,
        until: now() + THROTTLE_BACKOFF_SECONDS * 1000,
      };
      await cache.set(blockedKey, JSON.stringify(blocked), THROTTLE_BACKOFF_SECONDS * 1000);
      throw fail({
        message: `Zoho throttled token refresh: ${blocked.message}`,
        retryable: true,
        code: 'access_denied',
        status: response.status,
        retryAfterSeconds: THROTTLE_BACKOFF_SECONDS,
      });
    }
    if (error !== undefined) {
      const permanent = (zohoPermanentAuthErrors as readonly string[]).includes(error);
      if (permanent) {
        const blocked: BlockedEntry = { code: error, message: `Zoho rejected the credentials (${error})`, retryable: false, until: now() + PERMANENT_ERROR_BACKOFF_MS };
        await cache.set(blockedKey, JSON.stringify(blocked), PERMANENT_ERROR_BACKOFF_MS);
      }
      throw fail({
        message: `Zoho token refresh failed: ${error}`,
        retryable: !permanent && (response.status >= 500 || response.status === 429),
        code: error,
        status: response.status,
      });
    }
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 429;
      throw fail({ message: `Zoho token refresh failed with HTTP ${response.status}`, retryable, code: `http_${response.status}`, status: response.status });
    }
    const accessToken = json?.access_token;
    const expiresIn = json?.expires_in;
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw fail({ message: 'Zoho token response had no access_token', retryable: true, code: 'invalid_response', status: response.status });
    }
    const lifetimeMs = (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 3600) * 1000;
    // Keep it until 5 minutes before expiry; a token that lives less than that is used for half its life.
    const ttlMs = lifetimeMs > REFRESH_MARGIN_MS * 2 ? lifetimeMs - REFRESH_MARGIN_MS : Math.max(1_000, lifetimeMs / 2);
    await cache.set(tokenKey, accessToken, ttlMs);
    return accessToken;
  }

  return {
    async getAccessToken() {
      const cached = await cache.get(tokenKey);
      if (cached) return cached;
      let inFlight = refreshesInFlight.get(tokenKey);
      if (!inFlight) {
        inFlight = refresh().finally(() => refreshesInFlight.delete(tokenKey));
        refreshesInFlight.set(tokenKey, inFlight);
      }
      return inFlight;
    },
    async invalidate(rejectedToken) {
      if (rejectedToken !== undefined && (await cache.get(tokenKey)) !== rejectedToken) return;
      await cache.del(tokenKey);
    },
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
