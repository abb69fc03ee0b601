/**
 * /api/auth: login, refresh, logout, me. Login and refresh take credentials in the body and
 * answer with tokens; responses are never cached.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { authenticate, currentUser } from './auth.guard.ts';
import { emailSchema, loginBody, passwordSchema, refreshBody, tokenResponse, userView } from './auth.schemas.ts';
import { createAuthService, type AuthService } from './auth.service.ts';
import { createFirstRun } from './first-run.ts';
import { createLoginThrottle } from './login-throttle.ts';

const setupBody = z.object({ setup_token: z.string().min(1).max(200), email: emailSchema, password: passwordSchema });

/** The start of the line that hands out the setup token (tests and operators look for it). */
export const FIRST_ADMIN_HINT = 'No users yet: open';

export function firstAdminHint(setupUrl: string, token: string): string {
  return `${FIRST_ADMIN_HINT} ${setupUrl} and enter the one-time setup token ${token} to create the platform admin (or run \`npx xlnc users create --email you@example.com --role platform_admin\`)`;
}

/** The sessions and sign-in service of the /api routes that issue tokens (sign-in, setup, an accepted invitation). */
export function authServiceFrom(deps: Pick<Deps, 'tenancy' | 'config' | 'redis' | 'redisFallback'>): AuthService {
  return createAuthService({
    tenancy: deps.tenancy,
    jwtSecret: deps.config.jwtSecret,
    jwtRefreshSecret: deps.config.jwtRefreshSecret,
    throttle: createLoginThrottle(deps.redis, Date.now, deps.redisFallback),
  });
}

export function authRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const auth = authServiceFrom(deps);

    const firstRun = createFirstRun(deps.tenancy);

    app.addHook('onReady', async () => {
      const token = await firstRun.open();
      // warn: the server is unusable until someone reads this line, whatever LOG_LEVEL hides.
      if (token !== undefined) deps.logger.warn(firstAdminHint(`${deps.config.publicBaseUrl}/setup`, token));
    });
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    /** Public: whether this is a fresh install (the dashboard then shows the setup page). */
    app.get('/setup', { schema: { response: { 200: z.object({ needed: z.boolean() }) } } }, async () => ({ needed: await firstRun.needed() }));

    app.post('/setup', { schema: { body: setupBody, response: { 201: tokenResponse } } }, async (request, reply) => {
      const { setup_token: token, email, password } = request.body;
      const admin = await firstRun.createFirstAdmin({ token, email, password, requestId: request.id });
      request.log.info({ user_id: admin.id }, 'first platform admin created through the setup page');
      return reply.code(201).send(await auth.sessionFor(admin));
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
