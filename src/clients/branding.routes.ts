/**
 * Brands for the dashboard. Registered under /api:
 *
 *   GET /api/branding                      public: the brand of the client whose custom host the
 *                                          request came to, else the platform's (never an error)
 *   GET /api/clients/{clientId}/branding   the client's brand, for its users and platform admins
 *
 * Both answer how a brand looks (name, logo, colors) and nothing else about the client.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, requireClientAccess } from '../auth/auth.guard.ts';
import { clientIdSchema } from '../auth/auth.schemas.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { brandOf, platformBrand, type PublicBrand } from './branding.ts';
import type { ClientRegistry } from './client-registry.ts';
import { isServable } from './client.schema.ts';

const brandView = z.object({
  display_name: z.string(),
  logo_url: z.string().nullable(),
  primary_color: z.string().describe('#rrggbb: buttons and the brand mark.'),
  on_primary_color: z.string().describe('#rrggbb: text on primary_color (>= 4.5:1).'),
  primary_text_color: z.string().describe('#rrggbb: links and focus rings on the page (>= 4.5:1).'),
});
const brandResponse = z.object({ brand: brandView, source: z.enum(['client', 'platform']) });

/**
 * The request's host name, lowercased, without a port: the Host header, or X-Forwarded-Host when
 * the connection comes through a trusted proxy (TRUST_PROXY_HOPS; Fastify's `hostname`).
 */
export function requestHost(request: FastifyRequest): string {
  return request.hostname.toLowerCase().replace(/\.$/, '');
}

/** The brand a host shows before sign-in: its client's when it is an active client's custom host. */
export function brandForHost(registry: Pick<ClientRegistry, 'byCustomHost'>, host: string): { brand: PublicBrand; source: 'client' | 'platform' } {
  const record = registry.byCustomHost(host);
  return isServable(record) ? { brand: brandOf(record.config), source: 'client' } : { brand: platformBrand(), source: 'platform' };
}

export function brandingRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.get('/branding', { schema: { response: { 200: brandResponse } } }, async (request, reply) => {
      // Varies by host; short-lived so a brand change shows within a minute.
      void reply.header('cache-control', 'public, max-age=60').header('vary', 'Host, X-Forwarded-Host');
      return brandForHost(deps.registry, requestHost(request));
    });

    app.get(
      '/clients/:clientId/branding',
      { onRequest: authenticate, schema: { params: z.object({ clientId: clientIdSchema }), response: { 200: brandResponse } } },
      async (request, reply) => {
        requireClientAccess(request, request.params.clientId);
        const record = deps.registry.get(request.params.clientId);
        if (record === undefined) throw new AppError('not_found', 'Not found');
        request.clientId = record.id;
        void reply.header('cache-control', 'no-store');
        return record.config === null ? { brand: platformBrand(), source: 'platform' as const } : { brand: brandOf(record.config), source: 'client' as const };
      },
    );
  };
}
