import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const expired = () => json(401, { error: { code: 'unauthorized', message: 'Access token expired', request_id: 'r1' } }, { 'www-authenticate': 'Bearer error="invalid_token"' });
const tokens = (n: number) => ({ access_token: `access-${n}`, token_type: 'Bearer', expires_in: 900, refresh_token: `refresh-${n}`, user: { id: 'u', email: 'a@b.c', role: 'client_admin', client_id: 'c', disabled: false, last_login_at: null, created_at: '', updated_at: '' } });

/** A fresh copy of the session and API modules (their state is per page load), over a fake fetch and storage. */
async function load(handler: Handler, stored: string | null = 'refresh-0') {
  const storage = new Map<string, string>();
  if (stored !== null) storage.set('xlnc.refresh_token', stored);
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, value),
    removeItem: (key: string) => void storage.delete(key),
  });
  const calls: { url: string; auth: string | null; body: string | null }[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, auth: new Headers(init.headers).get('authorization'), body: typeof init.body === 'string' ? init.body : null });
    return handler(url, init);
  });
  vi.resetModules();
  const session = await import('./session.ts');
  const { api, ApiError } = await import('./api.ts');
  return { api, ApiError, session, calls, storage };
}

describe('the API client', () => {
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => vi.unstubAllGlobals());

  it('refreshes an expired session once and retries with the new token', async () => {
    let refreshes = 0;
    const { api, calls, storage } = await load((url, init) => {
      if (url === '/api/auth/refresh') return json(200, tokens(++refreshes));
      return new Headers(init.headers).get('authorization') === `Bearer access-${refreshes}` && refreshes === 2 ? json(200, { user: tokens(0).user }) : expired();
    });
    await expect(api.get('/api/auth/me')).resolves.toEqual({ user: tokens(0).user });
    // No token in memory: refresh, the API says expired: refresh again (once), retry.
    expect(calls.map((c) => c.url)).toEqual(['/api/auth/refresh', '/api/auth/me', '/api/auth/refresh', '/api/auth/me']);
    expect(calls[2]?.body).toBe(JSON.stringify({ refresh_token: 'refresh-1' }));
    expect(storage.get('xlnc.refresh_token')).toBe('refresh-2');
  });

  it('a POST without a body sends no JSON content type (the server refuses one with an empty body: 400)', async () => {
    const seen: { type: string | null; body: unknown }[] = [];
    const { api } = await load((url, init) => {
      if (url === '/api/auth/refresh') return json(200, tokens(1));
      seen.push({ type: new Headers(init.headers).get('content-type'), body: init.body });
      return new Response(null, { status: 204 });
    });
    await expect(api.post('/api/auth/logout-all', undefined)).resolves.toBeUndefined();
    await api.post('/api/auth/password', { current_password: 'a', new_password: 'b' });
    expect(seen).toEqual([
      { type: null, body: null },
      { type: 'application/json', body: JSON.stringify({ current_password: 'a', new_password: 'b' }) },
    ]);
  });

  it('ends the session when the retry is refused too, and asks no third time', async () => {
    let n = 0;
    const { api, ApiError, session, calls, storage } = await load((url) => (url === '/api/auth/refresh' ? json(200, tokens(++n)) : expired()));
    const ended: string[] = [];
    session.onSessionEnd((reason) => ended.push(reason));
    const error = await api.get('/api/auth/me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized', requestId: 'r1' });
    expect(calls.filter((c) => c.url === '/api/auth/me')).toHaveLength(2);
    expect(ended).toEqual(['expired']);
    expect(storage.has('xlnc.refresh_token')).toBe(false);
  });

  it('a refused refresh token ends the session without calling the API with nothing', async () => {
    const { api, session, calls } = await load((url) => (url === '/api/auth/refresh' ? json(401, { error: { code: 'token_reused', message: 'reused', request_id: 'r2' } }) : expired()));
    const ended: string[] = [];
    session.onSessionEnd((reason) => ended.push(reason));
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 401 });
    expect(ended).toEqual(['expired']);
    expect(calls.filter((c) => c.url === '/api/auth/me')).toHaveLength(0);
  });

  it('concurrent requests share one refresh', async () => {
    let refreshes = 0;
    const { api, calls } = await load(async (url) => {
      if (url === '/api/auth/refresh') {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, tokens(refreshes));
      }
      return json(200, { data: [], next_cursor: null });
    });
    await Promise.all([1, 2, 3].map(() => api.get('/api/clients/{clientId}/calls', { path: { clientId: 'acme' }, query: { outcome: 'booked', limit: 10 } })));
    expect(refreshes).toBe(1);
    expect(calls.filter((c) => c.url.startsWith('/api/clients/')).map((c) => [c.url, c.auth])).toEqual(
      Array.from({ length: 3 }, () => ['/api/clients/acme/calls?outcome=booked&limit=10', 'Bearer access-1']),
    );
  });

  it('turns the error envelope into a typed error, and a dead network into status 0', async () => {
    const { api, session } = await load((url) =>
      url === '/api/auth/refresh' ? json(200, tokens(1)) : json(404, { error: { code: 'not_found', message: 'Not found', request_id: 'req-9' } }),
    );
    await expect(api.get('/api/clients/{clientId}/settings', { path: { clientId: 'other' } })).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'Not found', requestId: 'req-9' });
    expect(session.hasSession()).toBe(true);

    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('a page that is not the envelope (a proxy) still gives a readable error', async () => {
    const { api } = await load((url) => (url === '/api/auth/refresh' ? json(200, tokens(1)) : new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })));
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 502, code: 'http_error', message: 'The server answered 502 Bad Gateway' });
  });
});
