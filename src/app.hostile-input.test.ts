/**
 * Issue 11, findings 5-8: hostile input gets a 4xx in the one envelope, Fastify's and Node's own
 * refusals included, unknown client ids never become metric series, and an unauthenticated caller
 * learns nothing about which clients exist.
 */
import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from './integrations/sms/twilio.ts';
import { sqlRows } from './platform/db/database.ts';
import { bearer, loginAs } from '../test/helpers/auth.ts';
import { callEvent, postSigned } from '../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../test/helpers/test-app.ts';

const TWILIO_SID = `AC${'3'.repeat(32)}`;
const TWILIO_TOKEN = 'twilio-token-hostile-0003';

function expectEnvelope(res: { statusCode: number; body: string }, status: number, code?: string): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = JSON.parse(res.body) as { error: { code: string; message: string; request_id: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ code: code ?? expect.any(String), message: expect.any(String), request_id: expect.any(String) });
}

/** Writes `request` on a raw socket and returns everything the server sent before closing. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('hostile input (issue 11)', () => {
  let t: TestApp;
  const id = uniqueId('hostile');
  const texter = uniqueId('hostile-tw');
  const callsOf = async (clientId: string) =>
    (await sqlRows<{ n: number }>(t.deps.database.db, sql`select count(*)::int as n from call_events where client_id = ${clientId}`))[0]?.n ?? 0;

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id, { limits: { webhooks_per_minute: 100_000 } }));
    writeClientFile(
      dir,
      testClientConfig(texter, { sms: { enabled: true, provider: 'twilio', account_sid: TWILIO_SID, auth_token: TWILIO_TOKEN, from_number: '+15005550006' } }),
    );
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(() => t.close());

  describe('finding 5: one input rule for text that reaches PostgreSQL, and bounded depth', () => {
    it('NUL or a lone surrogate in a login email, a path or a query parameter: 400 invalid_input', async () => {
      const admin = await loginAs(t, 'platform_admin');
      const viewer = await loginAs(t, 'client_viewer', id);
      for (const email of ['a\u0000@example.com', 'a\uD800@example.com']) {
        expectEnvelope(await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'x' } }), 400, 'invalid_input');
      }
      expectEnvelope(await t.app.inject({ method: 'GET', url: `/api/clients/${id}/calls/%00`, headers: bearer(viewer.accessToken) }), 400, 'invalid_input');
      expectEnvelope(await t.app.inject({ method: 'GET', url: `/api/clients/${id}/calls?q=%00`, headers: bearer(viewer.accessToken) }), 400, 'invalid_input');
      expectEnvelope(await t.app.inject({ method: 'GET', url: '/api/admin/clients/x%00', headers: bearer(admin.accessToken) }), 400, 'invalid_input');
      expectEnvelope(
        await t.app.inject({ method: 'POST', url: '/api/admin/users', headers: bearer(admin.accessToken), payload: { email: 'x@example.com', password: 'p\u0000ssword-long-enough', role: 'platform_admin' } }),
        400,
        'invalid_input',
      );
    });

    it('a signed webhook whose call_id holds NUL is a 400 and stores nothing; so is metadata nested 3,000 deep', async () => {
      const before = await callsOf(id);
      expectEnvelope(await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_\u0000nul')), 400);
      expectEnvelope(await postSigned(t.app, id, { event: 'call_inbound', call_inbound: { from_number: '+14155550100', to_number: '+14155550123', call_id: 'x\u0000' } }), 400);
      let deep: unknown = 'leaf';
      for (let i = 0; i < 3000; i++) deep = { a: deep };
      const res = await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_deep', { metadata: deep }));
      expectEnvelope(res, 400);
      expect(res.json().error.message.length).toBeLessThan(400);
      expect(await callsOf(id)).toBe(before);
      // Free text is still cleaned and stored, not refused (webhooks.property.test.ts).
      expect((await postSigned(t.app, id, callEvent(id, 'call_ended', 'call_text_nul', { transcript: 'a\u0000b' }))).statusCode).toBe(204);
    });

    it('a function name over 64 characters is a 400 envelope, not a ZodError 500', async () => {
      const res = await postSigned(t.app, id, { name: 'x', args: {} }, { path: `/api/webhooks/retell/${id}/functions/${'f'.repeat(65)}` });
      expectEnvelope(res, 400, 'invalid_payload');
    });

    it('a signed Twilio status callback whose MessageSid holds NUL is a 400', async () => {
      const params = { MessageSid: 'SM\u0000x', MessageStatus: 'delivered', AccountSid: TWILIO_SID };
      const url = `${t.deps.config.publicBaseUrl}/api/webhooks/twilio/${texter}/status`;
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/webhooks/twilio/${texter}/status`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TWILIO_TOKEN, url, params) },
        payload: new URLSearchParams(params).toString(),
      });
      expectEnvelope(res, 400, 'invalid_input');
    });
  });

  describe("finding 6: Fastify's and Node's own errors in the envelope", () => {
    it('malformed percent-encoding 400, an over-long path segment 414, unknown route 404, bad content type 415, invalid JSON 400, too large 413', async () => {
      expectEnvelope(await t.app.inject({ method: 'GET', url: '/api/admin/clients/%E0%A4%A' }), 400, 'bad_request');
      expectEnvelope(await t.app.inject({ method: 'GET', url: '/api/clients/x/calls/%ED%A0%80' }), 400, 'bad_request');
      expectEnvelope(await t.app.inject({ method: 'POST', url: `/api/webhooks/retell/${'a'.repeat(150)}` }), 414, 'uri_too_long');
      expectEnvelope(await t.app.inject({ method: 'DELETE', url: '/api/nothing-here' }), 404, 'not_found');
      expectEnvelope(await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'text/x-nope' }, payload: 'x' }), 415);
      expectEnvelope(await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' }), 400);
      expectEnvelope(
        await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'x'.repeat(2_000_000) }) }),
        413,
        'payload_too_large',
      );
    });

    it('over a real socket: oversized headers 431 and garbage 400 in the envelope; HEAD answers carry no body', async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as { port: number };
      const split = (raw: string) => {
        const at = raw.indexOf('\r\n\r\n');
        return { head: raw.slice(0, at), body: raw.slice(at + 4) };
      };

      const big = split(await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
      expect(big.head).toMatch(/^HTTP\/1\.1 431 /);
      expectEnvelope({ statusCode: 431, body: big.body }, 431, 'request_header_fields_too_large');

      const garbage = split(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
      expect(garbage.head).toMatch(/^HTTP\/1\.1 400 /);
      expectEnvelope({ statusCode: 400, body: garbage.body }, 400, 'bad_request');

      const headBig = split(await rawExchange(port, `HEAD /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
      expect(headBig.head).toMatch(/^HTTP\/1\.1 431 /);
      expect(headBig.body).toBe('');
      for (const path of ['/health', '/api/nothing-here', '/api/admin/clients/%E0%A4%A', '/api/admin/clients']) {
        const head = split(await rawExchange(port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        expect(head.head).toMatch(/^HTTP\/1\.1 \d{3} /);
        expect(head.body, path).toBe('');
      }
    });
  });

  describe('finding 7: metric labels for unknown clients', () => {
    it('2,000 requests naming weird client ids add no client_id series beyond one "_unknown" bucket', async () => {
      const seriesWithClient = async () => {
        const text = await t.deps.metrics.registry.metrics();
        return text.split('\n').filter((line) => !line.startsWith('#') && line.includes('client_id='));
      };
      const before = await seriesWithClient();
      const weird = ['__proto__', '../../admin', '\u202Eevil', 'constructor', 'x'.repeat(99), '%2e%2e', 'héllo', '\uD83D\uDE00'];
      for (let i = 0; i < 2000; i++) {
        const clientId = encodeURIComponent(`${weird[i % weird.length]}${i}`);
        const res = await t.app.inject({ method: 'POST', url: `/api/webhooks/retell/${clientId}`, headers: { 'content-type': 'application/json' }, payload: '{}' });
        expect(res.statusCode).toBeLessThan(500);
      }
      const key = (line: string) => line.replace(/ \S+$/, '');
      const known = new Set(before.map(key));
      const added = (await seriesWithClient()).map(key).filter((series) => !known.has(series));
      // clientHttpRequests {_unknown, 4xx} and webhookEvents {_unknown, unknown, unknown_client}.
      expect(added.length).toBeGreaterThan(0);
      expect(added.length).toBeLessThanOrEqual(2);
      for (const series of added) expect(series).toContain('client_id="_unknown"');
    });
  });

  describe('finding 8: the Twilio route does not tell a caller which clients exist', () => {
    it('a client without Twilio answers exactly like a client that does not exist', async () => {
      const post = (clientId: string) =>
        t.app.inject({ method: 'POST', url: `/api/webhooks/twilio/${clientId}/status`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'MessageSid=SM1' });
      const absent = uniqueId('absent');
      const [noTwilio, missing] = [await post(id), await post(absent)];
      expectEnvelope(noTwilio, 404, 'unknown_client');
      expectEnvelope(missing, 404, 'unknown_client');
      expect(noTwilio.json().error.message.replace(id, '<id>')).toBe(missing.json().error.message.replace(absent, '<id>'));
      expect(noTwilio.body).not.toMatch(/twilio/i);
    });
  });
});
