import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../test/helpers/https-receiver.ts';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signStandardWebhook } from '../platform/standard-webhooks.ts';
import { callHttpFunction, MAX_RESPONSE_BYTES } from './custom-http.ts';

const REQUEST = { clientId: 'acme-dental', callId: 'call_123', name: 'order_status', args: { order_id: 'A-1' }, call: { call_id: 'call_123', from_number: '+14155550123' } };
const allowLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1';

describe('callHttpFunction refuses non-public destinations before sending', () => {
  it.each([
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.1.2.3/hook',
    'https://0.0.0.0/hook',
    'https://2130706433/hook', // 127.0.0.1 written as one number
  ])('%s', async (url) => {
    const result = await callHttpFunction({ url, secret: 's', timeout_ms: 1000 }, REQUEST);
    expect(result).toMatchObject({ ok: false, code: 'blocked_address' });
  });

  it('refuses a hostname that resolves to loopback (localhost)', async () => {
    const result = await callHttpFunction({ url: 'https://localhost:9/hook', secret: 's', timeout_ms: 1000 }, REQUEST);
    expect(result).toMatchObject({ ok: false, code: 'blocked_address' });
    if (!result.ok) expect(result.message).toMatch(/127\.0\.0\.1|::1/);
  });

  it('refuses plain http', async () => {
    const result = await callHttpFunction({ url: 'http://example.com/hook', secret: 's', timeout_ms: 1000 }, REQUEST);
    expect(result).toMatchObject({ ok: false, code: 'blocked_address' });
  });
});

const tls = selfSignedCertificate();

type Received = { path: string; headers: IncomingMessage['headers']; body: string };

describe.skipIf(!tls)('callHttpFunction against a local HTTPS server (skipped: needs the openssl CLI to make a certificate)', () => {
  const received: Received[] = [];
  let server: Server;
  let origin = '';
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/json': (res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ result: 'Your order ships tomorrow.' }));
    },
    '/text': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Order A-1 ships tomorrow.');
    },
    '/bad-json': (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    },
    '/error': (res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    },
    '/redirect': (res) => {
      res.writeHead(302, { location: `${origin}/json` });
      res.end();
    },
    '/big': (res) => {
      // Chunked, no content-length: the cap must hold while streaming.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 8; i++) res.write(chunk);
      res.end();
    },
    '/big-declared': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      res.end('x'.repeat(MAX_RESPONSE_BYTES + 1));
    },
    '/hang': () => undefined,
  };

  beforeAll(async () => {
    server = createServer({ key: tls!.key, cert: tls!.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        (routes[path] ?? routes['/json'])!(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const call = (path: string, extra: { timeout_ms?: number; now?: () => number; ca?: boolean } = {}) =>
    callHttpFunction({ url: `${origin}${path}`, secret, timeout_ms: extra.timeout_ms ?? 3000 }, REQUEST, {
      allowAddress: allowLoopback,
      ...(extra.ca === false ? {} : { ca: tls!.cert }),
      ...(extra.now ? { now: extra.now } : {}),
    });
  const lastFor = (path: string) => received.filter((r) => r.path === path).at(-1);

  it('POSTs the signed envelope and passes a JSON answer through', async () => {
    const now = 1_767_225_600_123;
    const result = await call('/json', { now: () => now });
    expect(result).toEqual({ ok: true, status: 200, body: { result: 'Your order ships tomorrow.' } });

    const got = lastFor('/json')!;
    expect(got.headers['content-type']).toBe('application/json');
    expect(JSON.parse(got.body)).toEqual({ name: 'order_status', client_id: 'acme-dental', call_id: 'call_123', args: { order_id: 'A-1' }, call: REQUEST.call });
    const id = String(got.headers['webhook-id']);
    const timestamp = String(got.headers['webhook-timestamp']);
    expect(id).toMatch(/^msg_[A-Za-z0-9]+$/);
    expect(timestamp).toBe(String(Math.floor(now / 1000)));
    // The receiver's check: recompute over the raw body with the shared secret.
    expect(got.headers['webhook-signature']).toBe(signStandardWebhook(secret, id, timestamp, got.body));
    expect(got.headers['webhook-signature']).not.toBe(signStandardWebhook(`whsec_${randomBytes(24).toString('base64')}`, id, timestamp, got.body));
  });

  it('a request signed with a generated secret verifies with standardwebhooks on the receiving side (issue 11, finding 9)', async () => {
    const generated = generateWebhookSecret();
    const result = await callHttpFunction({ url: `${origin}/json`, secret: generated, timeout_ms: 3000 }, REQUEST, { allowAddress: allowLoopback, ca: tls!.cert });
    expect(result.ok).toBe(true);
    const got = lastFor('/json')!;
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(got.headers[name])]));
    expect(new Webhook(generated).verify(got.body, headers)).toMatchObject({ name: 'order_status', call_id: 'call_123' });
  });

  it('uses a new webhook-id per request', async () => {
    await call('/json');
    await call('/json');
    const ids = received.filter((r) => r.path === '/json').map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('passes a text answer through as text', async () => {
    expect(await call('/text')).toEqual({ ok: true, status: 200, body: 'Order A-1 ships tomorrow.' });
  });

  it('reports declared JSON that does not parse', async () => {
    expect(await call('/bad-json')).toMatchObject({ ok: false, code: 'invalid_response' });
  });

  it('reports a non-2xx answer as http_error', async () => {
    const result = await call('/error');
    expect(result).toMatchObject({ ok: false, code: 'http_error' });
    if (!result.ok) expect(result.message).toContain('500');
  });

  it('does not follow a redirect', async () => {
    const before = received.filter((r) => r.path === '/json').length;
    expect(await call('/redirect')).toMatchObject({ ok: false, code: 'redirect' });
    expect(received.filter((r) => r.path === '/json').length).toBe(before);
  });

  it('refuses an oversized body, streamed or declared', async () => {
    expect(await call('/big')).toMatchObject({ ok: false, code: 'invalid_response' });
    expect(await call('/big-declared')).toMatchObject({ ok: false, code: 'invalid_response' });
  });

  it('times out when the endpoint never answers', async () => {
    const started = performance.now();
    const result = await call('/hang', { timeout_ms: 200 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, code: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails TLS verification without the test CA', async () => {
    expect(await call('/json', { ca: false })).toMatchObject({ ok: false, code: 'network_error' });
  });

  it('still refuses loopback when allowAddress does not allow it', async () => {
    const result = await callHttpFunction({ url: `${origin}/json`, secret, timeout_ms: 1000 }, REQUEST, { ca: tls!.cert });
    expect(result).toMatchObject({ ok: false, code: 'blocked_address' });
  });
});
