/**
 * The OpenAPI 3 document, generated from the route schemas (zod → JSON Schema), at
 * /api/openapi.json, and Swagger UI at /api/docs. Registered before any route so every route is
 * collected.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.ts';
import { publicUrls } from '../platform/public-urls.ts';

const DOCS_PREFIX = '/api/docs';

export async function registerOpenApi(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'XLNC Perception API',
        version: '1',
        description:
          'Client API: a client user sees their own client only; platform admins see any. Another client answers 404. ' +
          'Authenticate with `Authorization: Bearer <access token>` from POST /api/auth/login.',
      },
      servers: [{ url: publicUrls(deps.config.publicBaseUrl).root }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: createJsonSchemaTransform({
      skipList: [`${DOCS_PREFIX}/`, `${DOCS_PREFIX}/*`, `${DOCS_PREFIX}/json`, `${DOCS_PREFIX}/yaml`, `${DOCS_PREFIX}/static/*`, '/api/openapi.json'],
    }),
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
