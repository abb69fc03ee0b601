/**
 * The HTTP faces of onboarding, on the same engine as `xlnc onboard`:
 * - `GET /api/oauth/zoho/callback` (public: Zoho's consent screen sends the browser here);
 * - `/api/admin/onboarding` (platform admins): onboard a client, streaming each step and check as
 *   NDJSON (one OnboardingEvent per line, the last `{"type":"done",…}`), saved in the database
 *   through the admin service; `POST /api/admin/clients/:id/doctor`; Zoho connect start and status.
 */
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { adminClientsServiceFrom, type Actor } from '../admin/admin-clients.service.ts';
import { authenticate, currentUser, requireRole } from '../auth/auth.guard.ts';
import { zohoDataCenters } from '../clients/client.schema.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { createCircuitBreakers, type ProviderContext } from '../platform/provider-http.ts';
import { decryptSecret } from '../platform/secrets.ts';
import { createDbClientWriter } from './db-client-writer.ts';
import { doctorClient, onboardClient } from './onboarding.service.ts';
import { completeZohoConnect, startZohoConnect, zohoConnectStatus, type ZohoConnectDeps } from './zoho-connect.service.ts';

const onboardingBody = z.object({
  answers: z.record(z.string(), z.unknown()),
  dry_run: z.boolean().default(false),
  update: z.boolean().default(false),
  /** A connected Zoho connect flow whose refresh token becomes calendar.oauth.refresh_token. */
  zoho_connection_id: z.uuid().optional(),
});

const connectBody = z.object({
  client_id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
  data_center: z.enum(zohoDataCenters),
  oauth_client_id: z.string().min(1).max(200),
  oauth_client_secret: z.string().min(1).max(500),
  accounts_base_url: z.url({ protocol: /^https?$/ }).optional(),
});

const callbackQuery = z.object({
  state: z.string().max(200).optional(),
  code: z.string().max(500).optional(),
  error: z.string().max(200).optional(),
  location: z.string().max(20).optional(),
  'accounts-server': z.string().max(200).optional(),
});

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function onboardingRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const connectDeps: ZohoConnectDeps = { tenancy: deps.tenancy, stateSecret: deps.config.jwtSecret, encryptionKeys: deps.config.encryptionKeys, publicBaseUrl: deps.config.publicBaseUrl };
    // Onboarding's own breakers: checking a client that is not live yet must not trip the live ones.
    const ctx = (): ProviderContext => ({ fetch: deps.providers.fetch, breakers: createCircuitBreakers({ failureThreshold: 1_000, openMs: 1 }), ...(deps.providers.metrics ? { metrics: deps.providers.metrics } : {}) });

    app.get('/oauth/zoho/callback', { schema: { querystring: callbackQuery, hide: true } }, async (request, reply) => {
      const { client_id: clientId } = await completeZohoConnect(connectDeps, ctx(), request.query);
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Zoho connected</title></head><body><h1>Zoho is connected for ${escapeHtml(clientId)}</h1><p>You can close this tab: the command line or the console carries on.</p></body></html>`);
    });

    await app.register(async (admin) => {
      const routes = admin.withTypeProvider<ZodTypeProvider>();
      admin.addHook('onRequest', authenticate);
      admin.addHook('onRequest', requireRole('platform_admin'));
      admin.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });
      const clients = adminClientsServiceFrom(deps);
      const actorOf = (request: FastifyRequest): Actor => ({ userId: currentUser(request).id, requestId: request.id });

      routes.post('/admin/zoho/connect', { schema: { body: connectBody, response: { 201: z.object({ id: z.uuid(), authorize_url: z.string(), redirect_uri: z.string(), expires_at: z.string() }) } } }, async (request, reply) => {
        const body = request.body;
        const started = await startZohoConnect(connectDeps, { clientId: body.client_id, dataCenter: body.data_center, oauthClientId: body.oauth_client_id, oauthClientSecret: body.oauth_client_secret, accountsBaseUrl: body.accounts_base_url });
        return reply.code(201).send(started);
      });

      routes.get('/admin/zoho/connect/:id', { schema: { params: z.object({ id: z.string().max(64) }), response: { 200: z.object({ id: z.string(), client_id: z.string(), status: z.enum(['pending', 'connected', 'failed', 'expired']), error: z.string().optional() }) } } }, async (request) => {
        // The sealed token stays on the server: onboarding takes it by the flow's id.
        const { refresh_token: _sealed, ...status } = await zohoConnectStatus(connectDeps, request.params.id);
        return status;
      });

      routes.post('/admin/onboarding', { schema: { body: onboardingBody } }, async (request, reply) => {
        const body = request.body;
        const answers = structuredClone(body.answers);
        if (body.zoho_connection_id !== undefined) {
          const flow = await zohoConnectStatus(connectDeps, body.zoho_connection_id);
          if (flow.status !== 'connected' || flow.refresh_token === undefined) throw new AppError('invalid_payload', `zoho_connection_id: the Zoho connect flow is ${flow.status}; finish the consent first`);
          if (flow.client_id !== answers.client_id) throw new AppError('invalid_payload', 'zoho_connection_id: that flow was started for another client');
          const calendar = answers.calendar as { provider?: unknown; oauth?: Record<string, unknown> } | undefined;
          if (calendar?.provider !== 'zoho') throw new AppError('invalid_payload', 'zoho_connection_id: answers.calendar.provider must be "zoho"');
          // The admin service takes plain secrets and seals them itself (it refuses enc: values).
          calendar.oauth = { ...calendar.oauth, refresh_token: decryptSecret(flow.refresh_token, deps.config.encryptionKeys) };
        }
        const writer = createDbClientWriter(clients, actorOf(request));
        const stream = new PassThrough();
        reply.header('content-type', 'application/x-ndjson; charset=utf-8');
        reply.header('cache-control', 'no-store');
        void onboardClient(answers, { dryRun: body.dry_run, update: body.update }, { ctx: ctx(), env: {}, encryptionKeys: deps.config.encryptionKeys, publicBaseUrl: deps.config.publicBaseUrl, writer }, (event) => stream.write(`${JSON.stringify(event)}\n`))
          .catch((error: unknown) => {
            request.log.error({ err: error }, 'onboarding failed unexpectedly');
            stream.write(`${JSON.stringify({ type: 'done', outcome: { ok: false, clientId: (typeof answers.client_id === 'string' ? answers.client_id : ''), failure: { part: 'client', message: 'an unexpected error stopped onboarding; nothing more was changed', fix: 'run it again' } } })}\n`);
          })
          .finally(() => stream.end());
        return reply.send(stream);
      });

      routes.post('/admin/clients/:id/doctor', { schema: { params: z.object({ id: z.string().max(100) }) } }, async (request) => {
        const record = deps.registry.get(request.params.id);
        if (!record) throw new AppError('not_found', `no client ${request.params.id}`);
        if (!record.config) throw new AppError('client_misconfigured', `client ${record.id} is invalid: ${record.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        const report = await doctorClient({ id: record.id, config: record.config }, { ctx: ctx(), publicBaseUrl: deps.config.publicBaseUrl });
        return { client_id: report.clientId, ok: report.ok, retell_sandboxed: report.retellSandboxed, drift: report.drift, checks: report.checks };
      });
    });
  };
}
