import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/test-app.ts';
import type { Deps } from '../deps.ts';
import { AppError, errorEnvelope } from '../platform/errors.ts';
import { classifyDashboardPath, dashboardCsp, dashboardRoutes } from './dashboard.routes.ts';

/** The plugin on an app with the API's 404 and error envelopes, and a logger that records warnings. */
async function appWith(bundleDir: string, publicBaseUrl = 'http://localhost:3000'): Promise<{ app: FastifyInstance; warnings: string[] }> {
  const warnings: string[] = [];
  const deps = { config: { publicBaseUrl }, logger: { warn: (message: string) => warnings.push(message) } } as unknown as Deps;
  const app = Fastify();
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send(errorEnvelope('not_found', `No route for ${request.method} ${request.url}`, request.id)));
  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof AppError) return reply.code(error.status).send(errorEnvelope(error.code, error.message, request.id));
    return reply.code(500).send(errorEnvelope('internal_error', 'Internal error', request.id));
  });
  await app.register(dashboardRoutes(deps, { bundleDir }));
  await app.ready();
  return { app, warnings };
}

/** A bundle folder, with a file beside it that must never be reachable. */
function bundle(): string {
  const parent = tempDir('web-');
  writeFileSync(join(parent, 'secret.txt'), 'TOP-SECRET');
  const dir = join(parent, 'dist');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("app")');
  writeFileSync(join(dir, 'assets', 'index-abc123.js.br'), brotliCompressSync('console.log("app")'));
  writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
  return dir;
}

describe('serving the dashboard', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('classifies paths: the API never falls back to the page', () => {
    expect(classifyDashboardPath('/api')).toBe('api');
    expect(classifyDashboardPath('/api/clients/x/calls')).toBe('api');
    expect(classifyDashboardPath('/assets/index-abc.js')).toBe('asset');
    expect(classifyDashboardPath('/favicon.svg')).toBe('file');
    expect(classifyDashboardPath('/')).toBe('page');
    expect(classifyDashboardPath('/c/acme/calls/call_1')).toBe('page');
    expect(classifyDashboardPath('/c/acme.example/settings')).toBe('page');
  });

  it('serves index.html uncached for every page path, hashed assets pre-compressed and immutable, other files briefly', async () => {
    ({ app } = await appWith(bundle()));
    for (const url of ['/', '/c/acme/calls?outcome=booked', '/operator/audit']) {
      const page = await app.inject({ url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toBe(dashboardCsp('http://localhost:3000'));
    }
    const asset = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-encoding']).toBe('br');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
    expect((await app.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(200);
  });

  it('answers a missing asset, a missing root file and any /api path with the API 404 envelope, not the page', async () => {
    ({ app } = await appWith(bundle()));
    for (const url of ['/assets/index-old999.js', '/robots.txt', '/api/nothing', '/api']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    // Nothing outside the bundle, however the path is spelled.
    for (const url of ['/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/../../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt']) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('TOP-SECRET');
    }
  });

  it('without a bundle says once how to build it, and the pages answer 404 saying so', async () => {
    const result = await appWith(join(tempDir('no-dist-'), 'dist'));
    app = result.app;
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('npm run build');
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(404);
    expect(page.json().error).toMatchObject({ code: 'not_found', message: 'No route for GET /: the dashboard is not built (npm run build)' });
    expect((await app.inject({ url: '/api/x' })).statusCode).toBe(404);
  });

  it('asks browsers to upgrade insecure requests only when the service is public over HTTPS', () => {
    expect(dashboardCsp('http://localhost:3000')).not.toContain('upgrade-insecure-requests');
    expect(dashboardCsp('https://app.example.com')).toContain('upgrade-insecure-requests');
    expect(dashboardCsp('https://app.example.com')).toContain("frame-ancestors 'none'");
  });
});
