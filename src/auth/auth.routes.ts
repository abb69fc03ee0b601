/**
 * /api/auth: login, refresh, logout, me. Login and refresh take credentials in the body and
 * answer with tokens; responses are never cached.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { authenticate, currentUser } from './auth.guard.ts';
import { loginBody, refreshBody, tokenResponse, userView } from './auth.schemas.ts';
import { createAuthService } from './auth.service.ts';
import { createLoginThrottle } from './login-throttle.ts';

export const FIRST_ADMIN_HINT =
  'No users yet: create the first admin with `npx xlnc users create --email you@example.com --role platform_admin`';

export function authRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const auth = createAuthService({
      tenancy: deps.tenancy,
      jwtSecret: deps.config.jwtSecret,
      jwtRefreshSecret: deps.config.jwtRefreshSecret,
      throttle: createLoginThrottle(deps.redis),
    });

    app.addHook('onReady', async () => {
      if ((await auth.countUsers()) === 0) deps.logger.info(FIRST_ADMIN_HINT);
    });
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    app.post('/login', { schema: { body: loginBody, response: { 200: tokenResponse } } }, async (request) =>
      auth.login({ email: request.body.email, password: request.body.password, ip: request.ip }),
    );

    app.post('/refresh', { schema: { body: refreshBody, response: { 200: tokenResponse } } }, async (request) =>
      auth.refresh(request.body.refresh_token),
    );

    app.post('/logout', { schema: { body: refreshBody } }, async (request, reply) => {
      await auth.logout(request.body.refresh_token);
      return reply.code(204).send();
    });

    app.get(
      '/me',
      { onRequest: authenticate, schema: { response: { 200: z.object({ user: userView }) } } },
      async (request) => ({ user: await auth.me(currentUser(request)) }),
    );
  };
}
