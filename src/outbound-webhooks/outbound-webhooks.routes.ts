/**
 * Outbound webhook subscriptions and their delivery log, twice over one service:
 * - client API, /api/clients/:clientId/webhook-…: the client's users read (viewer and admin);
 *   changes need client_admin (or a platform admin). Another client answers 404.
 * - admin API, /api/admin/clients/:clientId/webhook-…: platform admins, any client.
 * Order per request: authenticate (401) → client access (404) → the client exists (404) → role (403).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, currentUser, requireClientAccess, requireRole } from '../auth/auth.guard.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import {
  createSubscriptionBody,
  deliveryDetail,
  deliveryPage,
  deliveryParams,
  deliveryView,
  eventTypeList,
  listDeliveriesQuery,
  rotateSecretBody,
  subscriptionList,
  subscriptionParams,
  subscriptionView,
  subscriptionWithSecret,
  updateSubscriptionBody,
} from './outbound-webhooks.schemas.ts';
import { createOutboundWebhooksService } from './outbound-webhooks.service.ts';

const clientParams = z.object({ clientId: z.string().min(1).max(100).describe('The client id.') });
const security = [{ bearerAuth: [] }];

type Surface = 'client' | 'admin';

function webhookRoutes(deps: Deps, surface: Surface): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<ZodTypeProvider>();
    const service = createOutboundWebhooksService({ tenancy: deps.tenancy, sealer: deps.sealer, outbound: deps.outbound, queue: deps.queue });
    const tags = [surface === 'admin' ? 'Admin: outbound webhooks' : 'Client API: outbound webhooks'];
    const base = surface === 'admin' ? '/clients/:clientId' : '/:clientId';

    app.addHook('onRequest', authenticate);
    if (surface === 'admin') app.addHook('onRequest', requireRole('platform_admin'));
    app.addHook('onRequest', async (request) => {
      const parsed = clientParams.safeParse(request.params);
      if (!parsed.success) throw new AppError('not_found', 'Not found');
      requireClientAccess(request, parsed.data.clientId);
      if (!deps.registry.get(parsed.data.clientId)) throw new AppError('not_found', 'Not found');
      request.clientId = parsed.data.clientId;
    });
    const actor = (request: FastifyRequest) => ({ userId: currentUser(request).id, requestId: request.id });
    /** Changes: a client admin of this client, or a platform admin. */
    const canChange = async (request: FastifyRequest) => {
      const { role } = currentUser(request);
      if (role !== 'client_admin' && role !== 'platform_admin') throw new AppError('forbidden', 'Only a client admin may change webhook subscriptions');
    };

    app.get(
      `${base}/webhook-event-types`,
      { schema: { tags, security, summary: 'The domain event types a subscription may ask for', params: clientParams, response: { 200: eventTypeList } } },
      async () => ({ items: service.eventTypes() }),
    );

    app.get(
      `${base}/webhook-subscriptions`,
      { schema: { tags, security, summary: 'List webhook subscriptions (secrets never shown)', params: clientParams, response: { 200: subscriptionList } } },
      async (request) => ({ items: await service.list(request.params.clientId) }),
    );

    app.post(
      `${base}/webhook-subscriptions`,
      {
        onRequest: canChange,
        schema: {
          tags,
          security,
          summary: 'Create a subscription; the answer shows its whsec_ secret once',
          params: clientParams,
          body: createSubscriptionBody,
          response: { 201: subscriptionWithSecret },
        },
      },
      async (request, reply) => reply.code(201).send(await service.create(request.params.clientId, request.body, actor(request))),
    );

    app.get(
      `${base}/webhook-subscriptions/:subscriptionId`,
      { schema: { tags, security, summary: 'One subscription', params: subscriptionParams, response: { 200: subscriptionView } } },
      async (request) => service.get(request.params.clientId, request.params.subscriptionId),
    );

    app.patch(
      `${base}/webhook-subscriptions/:subscriptionId`,
      {
        onRequest: canChange,
        schema: { tags, security, summary: 'Change URL, event types, description, or enable / disable', params: subscriptionParams, body: updateSubscriptionBody, response: { 200: subscriptionView } },
      },
      async (request) => service.update(request.params.clientId, request.params.subscriptionId, request.body, actor(request)),
    );

    app.post(
      `${base}/webhook-subscriptions/:subscriptionId/rotate-secret`,
      {
        onRequest: canChange,
        schema: {
          tags,
          security,
          summary: 'New signing secret (shown once); the old one also signs for previous_valid_hours',
          params: subscriptionParams,
          body: rotateSecretBody,
          response: { 200: subscriptionWithSecret },
        },
      },
      async (request) => service.rotateSecret(request.params.clientId, request.params.subscriptionId, request.body.previous_valid_hours, actor(request)),
    );

    app.delete(
      `${base}/webhook-subscriptions/:subscriptionId`,
      { onRequest: canChange, schema: { tags, security, summary: 'Delete a subscription', params: subscriptionParams, response: { 204: z.null().describe('Deleted.') } } },
      async (request, reply) => {
        await service.remove(request.params.clientId, request.params.subscriptionId, actor(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      `${base}/webhook-deliveries`,
      { schema: { tags, security, summary: 'The delivery log, newest first', params: clientParams, querystring: listDeliveriesQuery, response: { 200: deliveryPage } } },
      async (request) => service.deliveries(request.params.clientId, request.query),
    );

    app.get(
      `${base}/webhook-deliveries/:deliveryId`,
      { schema: { tags, security, summary: 'One delivery and each of its attempts', params: deliveryParams, response: { 200: deliveryDetail } } },
      async (request) => service.delivery(request.params.clientId, request.params.deliveryId),
    );

    app.post(
      `${base}/webhook-deliveries/:deliveryId/replay`,
      {
        onRequest: canChange,
        schema: { tags, security, summary: 'Send a delivered or dead delivery again (same webhook-id)', params: deliveryParams, response: { 202: deliveryView } },
      },
      async (request, reply) => reply.code(202).send(await service.replay(request.params.clientId, request.params.deliveryId, actor(request))),
    );
  };
}

export const clientWebhookRoutes = (deps: Deps): FastifyPluginAsync => webhookRoutes(deps, 'client');
export const adminWebhookRoutes = (deps: Deps): FastifyPluginAsync => webhookRoutes(deps, 'admin');
