/**
 * The one way the dashboard talks to the API. Paths, queries and answers are typed from the
 * generated OpenAPI types; every failure becomes an `ApiError` carrying the envelope's code; a 401
 * on an expired or revoked access token refreshes the session once and retries.
 */
import type { paths } from './api-types.ts';
import { ApiError, errorFrom } from './api-error.ts';
import { accessToken, endSession, refreshSession } from './session.ts';

export { ApiError } from './api-error.ts';

export const isApiError = (error: unknown, status?: number): error is ApiError =>
  error instanceof ApiError && (status === undefined || error.status === status);

type GetPaths = { [P in keyof paths]: paths[P] extends { get: object } ? P : never }[keyof paths];
type PostPaths = { [P in keyof paths]: paths[P] extends { post: object } ? P : never }[keyof paths];
type PatchPaths = { [P in keyof paths]: paths[P] extends { patch: object } ? P : never }[keyof paths];
type DeletePaths = { [P in keyof paths]: paths[P] extends { delete: object } ? P : never }[keyof paths];
type Op<P extends keyof paths, M extends 'get' | 'post' | 'patch' | 'delete'> = paths[P][M];
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;

export type ResponseOf<P extends keyof paths, M extends 'get' | 'post' | 'patch' = 'get'> =
  Op<P, M> extends { responses: infer R }
    ? R extends { 200: infer OK }
      ? Json<OK>
      : R extends { 201: infer Created }
        ? Json<Created>
        : R extends { 202: infer Accepted }
          ? Json<Accepted>
          : undefined
    : never;
export type QueryOf<P extends GetPaths> = Op<P, 'get'> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type PathParamsOf<P extends keyof paths, M extends 'get' | 'post' | 'patch' | 'delete'> = Op<P, M> extends { parameters: { path: infer A } } ? A : never;
export type BodyOf<P extends PostPaths> = Op<P, 'post'> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type PatchBodyOf<P extends PatchPaths> = Op<P, 'patch'> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

interface RequestOptions<P extends keyof paths, M extends 'get' | 'post' | 'patch' | 'delete'> {
  path?: PathParamsOf<P, M> extends never ? undefined : PathParamsOf<P, M>;
  signal?: AbortSignal | undefined;
}

/** `/api/clients/{clientId}/calls` + { clientId: 'x' } + query → the URL, every value encoded. */
export function buildUrl(template: string, path: Record<string, string> | undefined, query?: object): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = path?.[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      if (value !== '') search.set(key, String(value));
    }
  }
  const qs = search.toString();
  return qs ? `${filled}?${qs}` : filled;
}

/** True when a 401 means "this access token is no longer good" (refreshing can help). */
const tokenRejected = (response: Response) => response.status === 401 && (response.headers.get('www-authenticate') ?? '').startsWith('Bearer');

async function send(url: string, init: RequestInit): Promise<Response> {
  const attempt = async () => {
    const token = accessToken() ?? (await refreshSession());
    if (token === null) {
      // No session (or the API refused its refresh token): nothing to send.
      endSession('expired');
      throw new ApiError(401, 'unauthorized', 'Sign in to continue');
    }
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    try {
      return await fetch(url, { ...init, headers });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
    }
  };
  let response = await attempt();
  if (tokenRejected(response)) {
    // Once: a second 401 right after a refresh means the session really ended.
    if ((await refreshSession({ force: true })) === null) {
      endSession('expired');
      throw await errorFrom(response);
    }
    response = await attempt();
    if (tokenRejected(response)) endSession('expired');
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export const api = {
  async get<P extends GetPaths>(
    template: P,
    options: RequestOptions<P, 'get'> & { query?: QueryOf<P> } = {},
  ): Promise<ResponseOf<P>> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined, options.query);
    const response = await send(url, { method: 'GET', headers: { accept: 'application/json' }, signal: options.signal ?? null });
    return (await response.json()) as ResponseOf<P>;
  },

  /** A GET whose answer is a file (CSV export): the body as a Blob and the server's file name. */
  async download<P extends GetPaths>(template: P, options: RequestOptions<P, 'get'> & { query?: QueryOf<P> } = {}): Promise<{ blob: Blob; fileName: string | null }> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined, options.query);
    const response = await send(url, { method: 'GET', signal: options.signal ?? null });
    const disposition = response.headers.get('content-disposition') ?? '';
    return { blob: await response.blob(), fileName: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null };
  },

  async post<P extends PostPaths>(template: P, body: BodyOf<P>, options: RequestOptions<P, 'post'> = {}): Promise<ResponseOf<P, 'post'>> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined);
    // No body, no content type: a JSON content type with an empty body is a 400 (Fastify refuses it).
    const response = await send(url, {
      method: 'POST',
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: options.signal ?? null,
    });
    return (response.status === 204 ? undefined : await response.json()) as ResponseOf<P, 'post'>;
  },

  async patch<P extends PatchPaths>(template: P, body: PatchBodyOf<P>, options: RequestOptions<P, 'patch'> = {}): Promise<ResponseOf<P, 'patch'>> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined);
    const response = await send(url, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: options.signal ?? null,
    });
    return (response.status === 204 ? undefined : await response.json()) as ResponseOf<P, 'patch'>;
  },

  /** A DELETE (answered 204, no body). */
  async delete<P extends DeletePaths>(template: P, options: RequestOptions<P, 'delete'> = {}): Promise<void> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined);
    await send(url, { method: 'DELETE', signal: options.signal ?? null });
  },

  /** A POST whose answer is NDJSON (one JSON value per line), handed to `onLine` as each line arrives. */
  async stream<P extends PostPaths>(template: P, body: BodyOf<P>, onLine: (value: unknown) => void, options: RequestOptions<P, 'post'> = {}): Promise<void> {
    const url = buildUrl(template, options.path as Record<string, string> | undefined);
    const response = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify(body),
      signal: options.signal ?? null,
    });
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffered += value;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') onLine(JSON.parse(line) as unknown);
        newline = buffered.indexOf('\n');
      }
      if (done) break;
    }
    if (buffered.trim() !== '') onLine(JSON.parse(buffered) as unknown);
  },
};
