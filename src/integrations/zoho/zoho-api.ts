/**
 * One authenticated request to a Zoho product API (Calendar, Mail): adds the client's access
 * token, and on 401 drops the token and retries once with a fresh one (a 401 means the request
 * was not acted on, so the retry cannot duplicate anything).
 */
import { providerFetch, readCapped, type ProviderContext, type ProviderName } from '../../platform/provider-http.ts';
import type { ZohoTokenSource } from './zoho-oauth.ts';

export interface ZohoApiRequest {
  clientId: string;
  provider: Extract<ProviderName, 'zoho_calendar' | 'zoho_mail'>;
  operation: string;
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  idempotent: boolean;
}

export interface ZohoApiResponse {
  status: number;
  ok: boolean;
  text: string;
  json: unknown;
  headers: Headers;
}

export async function zohoApiRequest(ctx: ProviderContext, tokens: ZohoTokenSource, request: ZohoApiRequest): Promise<ZohoApiResponse> {
  for (let attempt = 0; ; attempt++) {
    const token = await tokens.getAccessToken();
    const response = await providerFetch(ctx, {
      clientId: request.clientId,
      provider: request.provider,
      operation: request.operation,
      url: request.url,
      init: {
        method: request.method,
        headers: { accept: 'application/json', ...request.headers, authorization: `Zoho-oauthtoken ${token}` },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      timeoutMs: request.timeoutMs,
      idempotent: request.idempotent,
    });
    const text = await readCapped(response);
    if (response.status === 401 && attempt === 0) {
      await tokens.invalidate(token);
      continue;
    }
    return { status: response.status, ok: response.ok, text, json: parseJson(text), headers: response.headers };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Zoho's own error code from the shapes seen across products (`{error:{code}}`, `{data:{errorCode}}`, `{error}`). */
export function zohoErrorCode(json: unknown): string | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const body = json as { error?: unknown; data?: unknown; code?: unknown };
  if (typeof body.error === 'string') return body.error;
  if (body.error && typeof body.error === 'object') {
    const code = (body.error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  if (body.data && typeof body.data === 'object') {
    const code = (body.data as { errorCode?: unknown }).errorCode;
    if (typeof code === 'string') return code;
  }
  return typeof body.code === 'string' ? body.code : undefined;
}
