import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken, type AuthUser } from '../auth/access-token.ts';
import { nowSeconds } from '../auth/jwt.ts';
import { loginAs } from '../../test/helpers/auth.ts';
import { callEvent, postSigned, retellKeyFor } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { CLIENT_API_REQUESTS_PER_MINUTE } from './client-api.routes.ts';

describe('client API: who may read what', () => {
  let t: TestApp;
  const a = uniqueId('capi-a');
  const b = uniqueId('capi-b');
  const limited = uniqueId('capi-rl');
  const bodies: string[] = [];

  const token = (user: AuthUser, now?: number) => issueAccessToken(user, t.deps.config.jwtSecret, now);
  // Real users: a token is only good while its user exists and has not had its sessions ended.
  let viewerA: AuthUser;
  let adminA: AuthUser;
  let adminB: AuthUser;
  let platform: AuthUser;

  const get = async (url: string, bearer?: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' = 'GET') => {
    const res = await t.app.inject({ method, url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    bodies.push(res.body);
    return res;
  };

  /** Every client-API route (the call id exists for both clients). */
  const suffixes = ['/calls', '/calls.csv', '/calls/call_sec_1', '/appointments', '/messages', '/analytics', '/settings'];

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(a));
    writeClientFile(dir, testClientConfig(b));
    writeClientFile(dir, testClientConfig(limited, { limits: { client_api_per_minute: 5 } }));
    t = await createTestApp({ clientsDir: dir });
    viewerA = (await loginAs(t, 'client_viewer', a)).auth;
    adminA = (await loginAs(t, 'client_admin', a)).auth;
    adminB = (await loginAs(t, 'client_admin', b)).auth;
    platform = (await loginAs(t, 'platform_admin')).auth;
    expect((await postSigned(t.app, a, callEvent(a, 'call_ended', 'call_sec_1'))).statusCode).toBe(204);
    expect((await postSigned(t.app, b, callEvent(b, 'call_ended', 'call_sec_1', { from_number: '+14155550199' }))).statusCode).toBe(204);
  });
  afterAll(() => t.close());

  describe.each(suffixes)('GET /api/clients/:clientId%s', (suffix) => {
    const url = (clientId: string) => `/api/clients/${clientId}${suffix}`;

    it('no token: 401', async () => {
      const res = await get(url(a));
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    });

    it('expired token: 401', async () => {
      const res = await get(url(a), token(viewerA, nowSeconds() - 3600));
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toContain('expired');
    });

    it('a token signed with another secret: 401', async () => {
      const forged = issueAccessToken(platform, 'another-secret-0123456789abcdef-0123456789');
      expect((await get(url(a), forged)).statusCode).toBe(401);
    });

    it("the client's viewer and admin read it: 200", async () => {
      expect((await get(url(a), token(viewerA))).statusCode).toBe(200);
      expect((await get(url(a), token(adminA))).statusCode).toBe(200);
    });

    it('a viewer writing gets 403 (where the route has a write method) or 404/405, never a change', async () => {
      const before = (await get(url(a), token(adminA))).body;
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        expect([403, 404, 405]).toContain((await get(url(a), token(viewerA), method)).statusCode);
      }
      if (suffix !== '/calls.csv' && suffix !== '/analytics') expect((await get(url(a), token(adminA))).body).toBe(before);
    });

    it("another client's user: 404, the same answer as a client that does not exist", async () => {
      const other = await get(url(a), token(adminB));
      expect(other.statusCode).toBe(404);
      const missing = await get(url('no-such-client'), token(adminB));
      expect(missing.statusCode).toBe(404);
      expect(other.json().error.code).toBe(missing.json().error.code);
      expect(other.json().error.message).toBe(missing.json().error.message);
    });

    it('a platform admin reads any client: 200; an unknown client: 404', async () => {
      expect((await get(url(a), token(platform))).statusCode).toBe(200);
      expect((await get(url(b), token(platform))).statusCode).toBe(200);
      expect((await get(url('no-such-client'), token(platform))).statusCode).toBe(404);
    });
  });

  it("the same call id in two clients: each client sees its own; an unknown id is 404", async () => {
    const own = await get(`/api/clients/${b}/calls/call_sec_1`, token(adminB));
    expect(own.json().from_number).toBe('+14155550199');
    const same = await get(`/api/clients/${a}/calls/call_sec_1`, token(adminA));
    expect(same.json().from_number).toBe('+14155550142');
    const unknown = await get(`/api/clients/${a}/calls/call_not_there`, token(adminA));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
  });

  it("per-client rate limit from the client's limits.client_api_per_minute: 429 with Retry-After once spent; other clients unaffected", async () => {
    for (let i = 0; i < 5; i++) {
      const ok = await get(`/api/clients/${limited}/settings`, token(platform));
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-ratelimit-limit']).toBe('5');
    }
    const res = await get(`/api/clients/${limited}/settings`, token(platform));
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    const other = await get(`/api/clients/${a}/settings`, token(platform));
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-ratelimit-limit']).toBe(String(CLIENT_API_REQUESTS_PER_MINUTE));
    expect(Number(other.headers['x-ratelimit-remaining'])).toBeGreaterThan(0);
  });

  it('an unauthenticated request never reaches validation or the rate limiter', async () => {
    const res = await get(`/api/clients/${a}/calls?limit=100000`);
    expect(res.statusCode).toBe(401);
  });

  it('OpenAPI 3 at /api/openapi.json describes every client route; Swagger UI at /api/docs', async () => {
    const res = await get('/api/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const suffix of suffixes) {
      const path = `/api/clients/{clientId}${suffix.replace('call_sec_1', '{callId}')}`;
      expect(doc.paths[path]?.get, path).toBeDefined();
    }
    const list = doc.paths['/api/clients/{clientId}/calls'].get;
    expect(list.security).toEqual([{ bearerAuth: [] }]);
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['clientId', 'limit', 'cursor', 'from', 'to', 'outcome', 'sentiment', 'direction', 'agent', 'q']),
    );
    expect(list.responses['200'].content['application/json'].schema.properties.next_cursor).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth.scheme).toBe('bearer');
    const docs = await get('/api/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('no response of this suite contains a secret of the test clients', () => {
    expect(bodies.length).toBeGreaterThan(50);
    for (const clientId of [a, b, limited]) {
      for (const body of bodies) expect(body).not.toContain(retellKeyFor(clientId));
    }
    for (const body of bodies) expect(body).not.toContain(t.deps.config.jwtSecret);
  });
});
