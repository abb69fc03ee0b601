/**
 * Accounts: invitations and their acceptance, password reset by email, changing one's password,
 * signing out everywhere, and a client's users for its admins. Registered under /api:
 *
 *   /api/auth/invites/{describe,accept}, /api/auth/password-reset{,/confirm}   public (the link is the credential)
 *   /api/auth/password, /api/auth/logout-all                                    the signed-in user
 *   /api/clients/{clientId}/users, /users/{userId}, /invites                    client admins (their client), platform admins
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { brandOf, portalBaseUrl } from '../clients/branding.ts';
import { createAccountMailer } from './account-mail.ts';
import { createAccountsService, type MailBrand } from './accounts.service.ts';
import { authenticate, currentUser } from './auth.guard.ts';
import { clientIdSchema, emailSchema, passwordSchema, tokenResponse, userView } from './auth.schemas.ts';
import { authServiceFrom } from './auth.routes.ts';

const CLIENT_ROLES = ['client_admin', 'client_viewer'] as const;
const linkToken = z.string().min(1).max(2000);
const inviteView = z.object({ email: z.string(), role: z.string(), client_id: z.string().nullable(), expires_at: z.string() });
const clientParams = z.object({ clientId: clientIdSchema });
const userParams = z.object({ clientId: clientIdSchema, userId: z.uuid() });

export function accountRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const auth = authServiceFrom(deps);
    const configOf = (clientId: string | null) => (clientId === null ? null : (deps.registry.get(clientId)?.config ?? null));
    const mailBrandOf = (clientId: string | null): MailBrand => {
      const brand = brandOf(configOf(clientId));
      return { name: brand.display_name, color: brand.primary_color, logoUrl: brand.logo_url ?? undefined };
    };
    const accounts = createAccountsService({
      tenancy: deps.tenancy,
      jwtSecret: deps.config.jwtSecret,
      mailer: createAccountMailer({ config: deps.config.mail, dataDir: deps.config.dataDir, logger: deps.logger, providers: deps.providers }),
      linkBaseFor: (clientId) => portalBaseUrl(deps.config.publicBaseUrl, configOf(clientId)),
      sessions: deps.sessions,
      cache: deps.cache,
      logger: deps.logger,
      clientExists: (id) => deps.registry.get(id) !== undefined,
      brandOf: mailBrandOf,
    });

    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    app.post('/auth/invites/describe', { schema: { body: z.object({ token: linkToken }), response: { 200: z.object({ invite: inviteView }) } } }, async (request) => ({
      invite: accounts.describeInvite(request.body.token),
    }));

    app.post(
      '/auth/invites/accept',
      { schema: { body: z.object({ token: linkToken, password: passwordSchema }), response: { 201: tokenResponse } } },
      async (request, reply) => {
        const user = await accounts.acceptInvite(request.id, request.body.token, request.body.password);
        return reply.code(201).send(await auth.sessionFor(user));
      },
    );

    app.post('/auth/password-reset', { schema: { body: z.object({ email: emailSchema }) } }, async (request, reply) => {
      await accounts.requestReset(request.body.email);
      return reply.code(202).send();
    });

    app.post('/auth/password-reset/confirm', { schema: { body: z.object({ token: linkToken, password: passwordSchema }) } }, async (request, reply) => {
      await accounts.confirmReset(request.id, request.body.token, request.body.password);
      return reply.code(204).send();
    });

    app.post(
      '/auth/password',
      { onRequest: authenticate, schema: { body: z.object({ current_password: z.string().min(1).max(256), new_password: passwordSchema }) } },
      async (request, reply) => {
        await accounts.changePassword(currentUser(request), request.id, request.body.current_password, request.body.new_password);
        return reply.code(204).send();
      },
    );

    app.post('/auth/logout-all', { onRequest: authenticate }, async (request, reply) => {
      await accounts.signOutEverywhere(currentUser(request));
      return reply.code(204).send();
    });

    app.get(
      '/clients/:clientId/users',
      { onRequest: authenticate, schema: { params: clientParams, response: { 200: z.object({ users: z.array(userView) }) } } },
      async (request) => ({ users: await accounts.listClientUsers(currentUser(request), request.params.clientId) }),
    );

    app.patch(
      '/clients/:clientId/users/:userId',
      {
        onRequest: authenticate,
        schema: {
          params: userParams,
          body: z.object({ disabled: z.boolean().optional(), role: z.enum(CLIENT_ROLES).optional() }).strict(),
          response: { 200: z.object({ user: userView }) },
        },
      },
      async (request) => ({
        user: await accounts.updateClientUser(currentUser(request), request.id, request.params.clientId, request.params.userId, request.body),
      }),
    );

    app.post(
      '/clients/:clientId/invites',
      {
        onRequest: authenticate,
        schema: { params: clientParams, body: z.object({ email: emailSchema, role: z.enum(CLIENT_ROLES) }), response: { 202: z.object({ invite: inviteView }) } },
      },
      async (request, reply) => {
        const invite = await accounts.invite(currentUser(request), request.id, { clientId: request.params.clientId, ...request.body });
        return reply.code(202).send({ invite });
      },
    );
  };
}
