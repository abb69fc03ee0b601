/**
 * /api/admin: platform admins only. Clients (file-defined ones read-only), users and the audit log.
 * Every change is audited with the caller and the request id.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from '../auth/auth.guard.ts';
import { clientIdSchema, emailSchema, passwordSchema, ROLES, userView } from '../auth/auth.schemas.ts';
import { changeUser, createUser, findUsers, getUser } from '../auth/users.service.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { adminClientsServiceFrom, type Actor, type ClientDetail } from './admin-clients.service.ts';
import { AUDIT_ACTIONS, queryAudit, writeAudit } from './audit.service.ts';
import { auditPageSchema, clientDetailSchema, clientListSchema } from './admin.schemas.ts';
import { diffConfigs } from './client-secrets.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const userParams = z.object({ id: z.uuid() });

const createUserBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  role: z.enum(ROLES),
  client_id: clientIdSchema.nullable().optional(),
});

const patchUserBody = z
  .object({
    role: z.enum(ROLES).optional(),
    client_id: clientIdSchema.nullable().optional(),
    disabled: z.boolean().optional(),
    password: passwordSchema.optional(),
  })
  .strict();

const auditQuery = z.object({
  client_id: z.string().max(100).optional(),
  actor: z.string().max(254).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'must be a next_cursor from a previous page')
    .optional(),
});

/** `If-Match: "3"` (or W/"3") → 3. */
function versionFromIfMatch(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (match?.[1] === undefined) throw new AppError('invalid_payload', 'If-Match: must be the ETag of the client, like "3"');
  return Number(match[1]);
}

function sendClient(reply: FastifyReply, detail: ClientDetail, status = 200): FastifyReply {
  if (detail.version !== null) reply.header('etag', `"${detail.version}"`);
  return reply.code(status).send(detail);
}

export function adminRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const clients = adminClientsServiceFrom(deps);
    const clientExists = (id: string) => deps.registry.get(id) !== undefined;
    const actorOf = (request: FastifyRequest): Actor => ({ userId: currentUser(request).id, requestId: request.id });

    // Before the body is read: an unauthenticated or non-admin caller learns nothing about payloads.
    app.addHook('onRequest', authenticate);
    app.addHook('onRequest', requireRole('platform_admin'));
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

    app.get('/clients', { schema: { response: { 200: clientListSchema } } }, async () => ({ clients: await clients.list() }));

    app.post('/clients', { schema: { body: z.record(z.string(), z.unknown()) } }, async (request, reply) =>
      sendClient(reply, await clients.create(actorOf(request), request.body), 201),
    );

    app.get('/clients/:id', { schema: { params: idParams, response: { 200: clientDetailSchema } } }, async (request, reply) =>
      sendClient(reply, await clients.get(request.params.id)),
    );

    app.patch('/clients/:id', { schema: { params: idParams, body: z.record(z.string(), z.unknown()) } }, async (request, reply) => {
      const { version: bodyVersion, ...patch } = request.body;
      const expected =
        versionFromIfMatch(request.headers['if-match']) ?? (typeof bodyVersion === 'number' && Number.isInteger(bodyVersion) ? bodyVersion : undefined);
      if (expected === undefined) {
        throw new AppError('invalid_payload', 'send the version you are changing: If-Match: "<version>" or a "version" field');
      }
      return sendClient(reply, await clients.update(actorOf(request), request.params.id, patch, expected));
    });

    app.delete('/clients/:id', { schema: { params: idParams } }, async (request, reply) =>
      sendClient(reply, await clients.disable(actorOf(request), request.params.id, versionFromIfMatch(request.headers['if-match']))),
    );

    app.get(
      '/users',
      {
        schema: {
          querystring: z.object({ client_id: z.string().max(100).optional(), role: z.enum(ROLES).optional() }),
          response: { 200: z.object({ users: z.array(userView) }) },
        },
      },
      async (request) => ({
        users: await deps.tenancy.withPlatform((tx) => findUsers(tx, { clientId: request.query.client_id, role: request.query.role })),
      }),
    );

    app.get('/users/:id', { schema: { params: userParams, response: { 200: z.object({ user: userView }) } } }, async (request) => ({
      user: await deps.tenancy.withPlatform((tx) => getUser(tx, request.params.id)),
    }));

    app.post(
      '/users',
      { schema: { body: createUserBody, response: { 201: z.object({ user: userView }) } } },
      async (request, reply) => {
        const { email, password, role, client_id: clientId } = request.body;
        const actor = actorOf(request);
        const user = await deps.tenancy.withPlatform(async (tx) => {
          const created = await createUser(tx, { email, password, role, clientId: clientId ?? null }, clientExists);
          await writeAudit(tx, {
            actorUserId: actor.userId,
            action: 'user.create',
            clientId: created.client_id,
            targetId: created.id,
            diff: { changes: diffConfigs(undefined, { email, role, client_id: created.client_id, disabled: false }) },
            requestId: actor.requestId,
          });
          return created;
        });
        return reply.code(201).send({ user });
      },
    );

    app.patch(
      '/users/:id',
      { schema: { params: userParams, body: patchUserBody, response: { 200: z.object({ user: userView }) } } },
      async (request) => {
        const actor = actorOf(request);
        const body = request.body;
        if (request.params.id === actor.userId && (body.disabled === true || (body.role !== undefined && body.role !== 'platform_admin'))) {
          throw new AppError('conflict', 'You cannot disable or demote your own account; ask another platform admin');
        }
        const { user, sessionsEnded } = await deps.tenancy.withPlatform(async (tx) => {
          const { before, after, sessionsEnded } = await changeUser(
            tx,
            request.params.id,
            { role: body.role, clientId: body.client_id, disabled: body.disabled, password: body.password },
            clientExists,
          );
          const pick = (u: typeof before) => ({ role: u.role, client_id: u.client_id, disabled: u.disabled });
          const changes = diffConfigs(pick(before), pick(after));
          if (body.password !== undefined) changes.push({ path: '$.password', from: '••••', to: '••••' });
          await writeAudit(tx, {
            actorUserId: actor.userId,
            action: 'user.update',
            clientId: after.client_id ?? before.client_id,
            targetId: after.id,
            diff: { changes },
            requestId: actor.requestId,
          });
          return { user: after, sessionsEnded };
        });
        if (sessionsEnded) await deps.sessions.revoke(user.id);
        return { user };
      },
    );

    app.get('/audit', { schema: { querystring: auditQuery, response: { 200: auditPageSchema } } }, async (request) => {
      const q = request.query;
      return queryAudit(deps.tenancy, {
        clientId: q.client_id,
        actor: q.actor,
        action: q.action,
        from: q.from !== undefined ? new Date(q.from) : undefined,
        to: q.to !== undefined ? new Date(q.to) : undefined,
        limit: q.limit,
        cursor: q.cursor !== undefined ? Number(q.cursor) : undefined,
      });
    });
  };
}
