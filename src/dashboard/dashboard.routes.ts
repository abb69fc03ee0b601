/**
 * The dashboard (web/, built by Vite into web/dist) served at `/`:
 *   /assets/*      hashed, pre-compressed files: cached for a year, immutable
 *   /favicon.svg…  other files at the bundle's root: cached briefly
 *   anything else  index.html, never cached, so a deploy is picked up on the next load (SPA fallback)
 * `/api/*` paths never fall back: an unknown one answers the API's 404 envelope. Without a bundle
 * (a production image built without it, or a checkout not built yet) the API serves normally, one
 * log line says how to build it, and page paths answer 404 saying the same.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import { errorEnvelope } from '../platform/errors.ts';

export const DEFAULT_BUNDLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** What the dashboard needs and nothing more: its own scripts and styles, the API on this origin. */
export function dashboardCsp(publicBaseUrl: string): string {
  const directives = [
    "default-src 'self'",
    "base-uri 'self'",
    "connect-src 'self'",
    "font-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    // Client logos and call recordings live on other hosts (Retell's storage).
    "img-src 'self' data: https:",
    "media-src 'self' https:",
    "object-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    // Radix's scroll lock inserts a <style> element; no script may run from a style.
    "style-src 'self' 'unsafe-inline'",
    "worker-src 'self'",
  ];
  if (publicBaseUrl.startsWith('https://')) directives.push('upgrade-insecure-requests');
  return directives.join('; ');
}

export type DashboardPath = 'api' | 'asset' | 'file' | 'page';

/** Which kind of answer a GET path gets. A path with an extension at the root is a file, not a page. */
export function classifyDashboardPath(pathname: string): DashboardPath {
  if (pathname === '/api' || pathname.startsWith('/api/')) return 'api';
  if (pathname.startsWith('/assets/')) return 'asset';
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return /^[\w-]+\.[a-z0-9]{1,8}$/i.test(last) && !pathname.slice(1).includes('/') ? 'file' : 'page';
}

export interface DashboardOptions {
  /** The built bundle (default web/dist). */
  bundleDir?: string;
}

export function dashboardRoutes(deps: Deps, options: DashboardOptions = {}): FastifyPluginAsync {
  const bundleDir = options.bundleDir ?? DEFAULT_BUNDLE_DIR;
  const csp = dashboardCsp(deps.config.publicBaseUrl);

  return async (app) => {
    const built = existsSync(join(bundleDir, 'index.html'));
    if (!built) {
      deps.logger.warn(`Dashboard not built (no ${join(bundleDir, 'index.html')}): run \`npm run build\`; the API serves normally`);
    }

    app.addHook('onSend', async (request, reply) => {
      if (!request.url.startsWith('/api/')) reply.header('content-security-policy', csp);
    });

    if (built) {
      await app.register(fastifyStatic, {
        root: join(bundleDir, 'assets'),
        prefix: '/assets/',
        // The build writes .br and .gz beside each asset.
        preCompressed: true,
        immutable: true,
        maxAge: '365d',
        index: false,
        redirect: false,
        dotfiles: 'deny',
      });
    }

    const sendPage = (reply: FastifyReply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html', bundleDir, { cacheControl: false });

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      const kind = classifyDashboardPath(pathname);
      if (kind === 'api' || kind === 'asset') return reply.callNotFound();
      // A 404 like any unknown path (not a 5xx: nothing failed), saying why.
      if (!built) return reply.code(404).send(errorEnvelope('not_found', `No route for GET ${pathname}: the dashboard is not built (npm run build)`, request.id));
      if (kind === 'file') {
        const file = join(bundleDir, pathname.slice(1));
        if (!existsSync(file) || !statSync(file).isFile()) return reply.callNotFound();
        return reply.sendFile(pathname.slice(1), bundleDir, { maxAge: '1h', immutable: false });
      }
      return sendPage(reply);
    });
  };
}
