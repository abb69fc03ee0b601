/**
 * Zoho connect: the OAuth authorization-code flow (providers.md §1.2), so nobody copies refresh
 * tokens by hand. `startZohoConnect` records a flow and returns the consent URL in the client's
 * data center; Zoho sends the browser back to our callback with `code` and `state`;
 * `completeZohoConnect` checks the state (HMAC-signed, single use, 15 minutes), exchanges the
 * code at the same accounts server and stores the refresh token sealed for that client. The CLI
 * and the console then wait for the flow (`zohoConnectStatus`) and put the sealed token in the
 * client's config.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { zohoDataCenters, type ZohoDataCenter } from '../clients/client.schema.ts';
import { zohoAccountsBaseUrl } from '../integrations/zoho/zoho-oauth.ts';
import type { Tenancy } from '../platform/db/tenancy.ts';
import { AppError } from '../platform/errors.ts';
import { providerFetch, readCapped, type ProviderContext } from '../platform/provider-http.ts';
import { publicUrls } from '../platform/public-urls.ts';
import { decryptSecret, encryptSecret } from '../platform/secrets.ts';
import { claimZohoConnection, findZohoConnection, finishZohoConnection, insertZohoConnection } from './zoho-connections.repo.ts';

export const ZOHO_CONNECT_TTL_MS = 15 * 60_000;
/** Calendar (read, events, free/busy), Mail (accounts, send) and the user's profile, in one consent. */
export const ZOHO_SCOPES = ['ZohoCalendar.calendar.ALL', 'ZohoCalendar.event.ALL', 'ZohoCalendar.freebusy.READ', 'ZohoMail.accounts.READ', 'ZohoMail.messages.CREATE', 'AaaServer.profile.READ'];

export interface ZohoConnectDeps {
  tenancy: Tenancy;
  /** Signs `state`; the server's JWT secret (commands on the same machine share it). */
  stateSecret: string;
  /** Current key first: seals the client secret and the refresh token. */
  encryptionKeys: readonly Buffer[];
  publicBaseUrl: string;
}

export interface ZohoConnectStart {
  clientId: string;
  dataCenter: ZohoDataCenter;
  oauthClientId: string;
  oauthClientSecret: string;
  /** Where Zoho's accounts server is (a local fake in tests); defaults to the data center's. */
  accountsBaseUrl?: string | undefined;
}

export interface ZohoConnectStatus {
  id: string;
  client_id: string;
  status: 'pending' | 'connected' | 'failed' | 'expired';
  /** Sealed (`enc:v1:`), only when connected. */
  refresh_token?: string;
  error?: string;
}

function sign(secret: string, id: string): string {
  return createHmac('sha256', secret).update(`zoho-connect:${id}`).digest('base64url');
}

export function zohoConnectState(secret: string, id: string): string {
  return `${id}.${sign(secret, id)}`;
}

/** The flow id a genuine state names; undefined for anything we did not sign. */
export function openZohoConnectState(secret: string, state: string): string | undefined {
  const [id, mac, ...rest] = state.split('.');
  if (!id || !mac || rest.length > 0 || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const expected = Buffer.from(sign(secret, id));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
}

function sealingKey(deps: ZohoConnectDeps): Buffer {
  const key = deps.encryptionKeys[0];
  if (key === undefined) throw new AppError('invalid_payload', 'ENCRYPTION_KEY is not set: Zoho connect stores the tokens sealed');
  return key;
}

export async function startZohoConnect(deps: ZohoConnectDeps, input: ZohoConnectStart): Promise<{ id: string; authorize_url: string; redirect_uri: string; expires_at: string }> {
  if (!(zohoDataCenters as readonly string[]).includes(input.dataCenter)) throw new AppError('invalid_payload', `data_center: one of ${zohoDataCenters.join(', ')}`);
  const id = randomUUID();
  const accounts = (input.accountsBaseUrl ?? zohoAccountsBaseUrl(input.dataCenter)).replace(/\/+$/, '');
  const redirectUri = publicUrls(deps.publicBaseUrl).zohoOAuthCallback();
  const expiresAt = new Date(Date.now() + ZOHO_CONNECT_TTL_MS);
  await deps.tenancy.withPlatform((tx) =>
    insertZohoConnection(tx, {
      id,
      clientId: input.clientId,
      dataCenter: input.dataCenter,
      accountsBaseUrl: accounts,
      oauthClientId: input.oauthClientId,
      oauthClientSecret: encryptSecret(input.oauthClientSecret, sealingKey(deps)),
      redirectUri,
      expiresAt,
    }),
  );
  const url = new URL(`${accounts}/oauth/v2/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: input.oauthClientId,
    scope: ZOHO_SCOPES.join(','),
    redirect_uri: redirectUri,
    access_type: 'offline',
    prompt: 'consent',
    state: zohoConnectState(deps.stateSecret, id),
  }).toString();
  return { id, authorize_url: url.toString(), redirect_uri: redirectUri, expires_at: expiresAt.toISOString() };
}

/**
 * The callback. A state we did not sign, or one already used or expired, is refused before Zoho
 * is asked anything; a code Zoho refuses (replayed, expired) fails the flow.
 */
export async function completeZohoConnect(deps: ZohoConnectDeps, ctx: ProviderContext, query: { state?: string | undefined; code?: string | undefined; error?: string | undefined }): Promise<{ client_id: string }> {
  const id = query.state ? openZohoConnectState(deps.stateSecret, query.state) : undefined;
  if (id === undefined) throw new AppError('invalid_payload', 'state: not a Zoho connect link from this service; start again from the CLI or the console');
  const flow = await deps.tenancy.withPlatform((tx) => claimZohoConnection(tx, id));
  if (!flow) throw new AppError('conflict', 'state: this Zoho connect link was already used or has expired; start again');
  const fail = async (error: string): Promise<never> => {
    await deps.tenancy.withPlatform((tx) => finishZohoConnect(tx, id, error));
    throw new AppError('invalid_payload', `Zoho connect failed: ${error}`);
  };
  if (query.error) return fail(`Zoho says ${query.error.slice(0, 100)} (consent refused?)`);
  if (!query.code) return fail('no code in the callback');
  const response = await providerFetch(ctx, {
    clientId: flow.clientId,
    provider: 'zoho_accounts',
    operation: 'authorization_code',
    url: `${flow.accountsBaseUrl}/oauth/v2/token`,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: flow.oauthClientId,
        client_secret: decryptSecret(flow.oauthClientSecret, deps.encryptionKeys),
        redirect_uri: flow.redirectUri,
        code: query.code,
      }),
    },
    timeoutMs: 10_000,
    idempotent: false,
  }).catch(async (error: unknown) => fail(`Zoho's accounts server did not answer (${error instanceof Error ? error.message : String(error)})`));
  const text = await readCapped(response, 64 * 1024);
  let json: { refresh_token?: unknown; error?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // handled below
  }
  // Zoho reports errors in the body, often with HTTP 200 (providers.md §1.4).
  if (typeof json.error === 'string') return fail(`Zoho refused the code (${json.error.slice(0, 60)}); a code works once and for a few minutes: start again`);
  if (!response.ok || typeof json.refresh_token !== 'string') return fail(`Zoho answered HTTP ${response.status} without a refresh token (was access_type=offline granted?)`);
  const sealed = encryptSecret(json.refresh_token, sealingKey(deps));
  await deps.tenancy.withPlatform((tx) => finishZohoConnection(tx, id, { status: 'connected', refreshToken: sealed }));
  return { client_id: flow.clientId };
}

async function finishZohoConnect(tx: Parameters<Parameters<Tenancy['withPlatform']>[0]>[0], id: string, error: string): Promise<void> {
  await finishZohoConnection(tx, id, { status: 'failed', error });
}

export async function zohoConnectStatus(deps: Pick<ZohoConnectDeps, 'tenancy'>, id: string): Promise<ZohoConnectStatus> {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('not_found', 'no such Zoho connect flow');
  const row = await deps.tenancy.withPlatform((tx) => findZohoConnection(tx, id));
  if (!row) throw new AppError('not_found', 'no such Zoho connect flow');
  const expired = row.status === 'pending' && row.expiresAt.getTime() <= Date.now();
  return {
    id: row.id,
    client_id: row.clientId,
    status: expired ? 'expired' : (row.status as ZohoConnectStatus['status']),
    ...(row.status === 'connected' && row.refreshToken ? { refresh_token: row.refreshToken } : {}),
    ...(row.error ? { error: row.error } : {}),
  };
}
