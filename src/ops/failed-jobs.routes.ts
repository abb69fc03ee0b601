/**
 * /api/admin/jobs: failed jobs (the dead-letter queue), platform admins only: list them (what
 * failed, whose, attempts, the last error scrubbed) and replay them, as `xlnc jobs` does.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, requireRole } from '../auth/auth.guard.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { listFailedJobs, retryFailedJobs } from './failed-jobs.service.ts';

const failedJobView = z.object({
  id: z.string(),
  queue: z.string(),
  client_id: z.string(),
  attempts: z.number(),
  failed_at: z.string(),
  created_at: z.string(),
  last_error: z.string().describe('Secrets removed; at most 500 characters.'),
  subject: z.record(z.string(), z.string()).describe('What the job was about (message_id, call_id, event_id…).'),
});

const retryBody = z
  .object({
    ids: z.array(z.uuid()).min(1).max(1000).optional(),
    all: z.literal(true).optional(),
    client_id: z.string().min(1).max(100).optional(),
  })
  .strict()
  .refine((b) => (b.ids === undefined) !== (b.all === undefined), 'give either ids or all: true');

export function failedJobsRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    app.addHook('onRequest', authenticate);
    app.addHook('onRequest', requireRole('platform_admin'));
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    const knownClient = (id: string | undefined) => {
      if (id !== undefined && !deps.registry.get(id)) throw new AppError('not_found', `No client ${id}`);
      return id;
    };

    app.get(
      '/failed',
      {
        schema: {
          querystring: z.object({ client_id: z.string().min(1).max(100).optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) }),
          response: { 200: z.object({ jobs: z.array(failedJobView) }) },
        },
      },
      async (request) => {
        const clientId = knownClient(request.query.client_id);
        return { jobs: await listFailedJobs(deps.queue, { ...(clientId !== undefined ? { clientId } : {}), limit: request.query.limit }, deps.scrubber) };
      },
    );

    app.post(
      '/failed/retry',
      { schema: { body: retryBody, response: { 200: z.object({ retried: z.number(), not_found: z.array(z.string()) }) } } },
      async (request) => {
        const clientId = knownClient(request.body.client_id);
        const scope = clientId !== undefined ? { clientId } : {};
        if (request.body.all) return { retried: await deps.queue.retryDeadLetters({ all: true, ...scope }), not_found: [] };
        const { retried, notFound } = await retryFailedJobs(deps.queue, request.body.ids ?? [], scope);
        return { retried: retried.length, not_found: notFound };
      },
    );
  };
}
