/**
 * A client's own settings, edited by its admins (and platform admins): business hours, holidays,
 * the notification address, message templates, feature switches and branding. Only database-backed clients
 * are editable here; a file-backed client answers 409 naming the file to edit. Each change goes
 * through the admin clients service: merged, validated by the one client schema (400 naming the
 * field, every problem listed in the envelope's `issues`), versioned (409 when someone changed it
 * meanwhile), audited, and loaded at once. Secrets already stored may be replaced (write-only:
 * sealed, never echoed): a client's admin its provider credentials, the Retell API key only a
 * platform admin (403 naming the path). A draft of the templates can be previewed, rendered by the sending code.
 *
 * Registered under /api/clients. Viewers 403; another client's settings 404.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, currentUser, requireClientAccess } from '../auth/auth.guard.ts';
import { clientIdSchema } from '../auth/auth.schemas.ts';
import type { Deps } from '../deps.ts';
import { clientTemplatesSchema, formatJsonPath, listSecretFields, type ClientConfig } from '../clients/client.schema.ts';
import { previewTemplates } from '../integrations/templates/template-preview.ts';
import { AppError } from '../platform/errors.ts';
import { adminClientsServiceFrom } from './admin-clients.service.ts';
import { mayReplaceSecret, refuseSecretsBeyondRole } from './client-secrets.ts';

/** The parts of a configuration a client's admin may change; credentials and routing stay with the operator. */
export const CLIENT_EDITABLE_KEYS = ['business_hours', 'holidays', 'notifications', 'templates', 'features', 'branding'] as const;

const params = z.object({ clientId: clientIdSchema });
const editableView = z.object({
  editable: z.boolean(),
  source: z.string().describe('file | db'),
  version: z.number().nullable().describe('Send it back with a change (optimistic concurrency).'),
  file: z.string().nullable().describe('The file to edit, for a file-backed client.'),
  editable_keys: z.array(z.string()),
  replaceable_secrets: z.array(z.string()).describe('JSON paths of the stored secrets this user may replace (`secrets` of a PATCH); the Retell API key is a platform admin’s.'),
});
const changeBody = z.object({
  version: z.number().int().min(0),
  changes: z.object(Object.fromEntries(CLIENT_EDITABLE_KEYS.map((key) => [key, z.unknown().optional()]))).strict(),
  secrets: z
    .record(z.string().max(200), z.string().max(4096))
    .refine((secrets) => Object.keys(secrets).length <= 20, 'at most 20 secrets at once')
    .optional()
    .describe('New values for secrets already stored, by JSON path ("$.sms.auth_token"): sealed before storage, never echoed.'),
});

/** Template previews a client's admin may ask for per minute (the page asks as they type, debounced). */
export const PREVIEW_REQUESTS_PER_MINUTE = 120;

const previewBody = z.object({ templates: clientTemplatesSchema.describe('A draft of the client’s `templates` block.') });
const issueList = z.array(z.object({ path: z.string(), message: z.string() }));
const previewView = z.object({
  sms: z.array(z.object({ name: z.string(), template: z.string().describe('The template in effect: the draft’s, else the default.'), text: z.string(), encoding: z.enum(['GSM-7', 'UCS-2']), segments: z.number(), missing: z.array(z.string()) })),
  email: z.array(z.object({ name: z.string(), template: z.object({ subject: z.string(), text: z.string(), html: z.string() }), subject: z.string(), text: z.string(), html: z.string(), missing: z.array(z.string()) })),
  issues: issueList.describe('What would make saving this draft fail, by JSON path.'),
  sample: z.record(z.string(), z.string()).describe('The sample call data the previews are rendered with.'),
});

/**
 * A field conflict (a custom host another client holds) as a client's own user may see it: the
 * field issues only, never the other client's id that the operator's message names.
 */
function withoutOtherClients(error: unknown): unknown {
  if (!(error instanceof AppError) || error.code !== 'conflict' || error.issues === undefined || error.issues.length === 0) return error;
  return new AppError('conflict', error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {}, error.issues);
}

export function clientSettingsRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const clients = adminClientsServiceFrom(deps);

    const recordFor = (clientId: string, request: Parameters<typeof requireClientAccess>[0], write: boolean) => {
      const user = requireClientAccess(request, clientId);
      const record = deps.registry.get(clientId);
      if (record === undefined) throw new AppError('not_found', 'Not found');
      if (write && user.role === 'client_viewer') throw new AppError('forbidden', 'Only an admin of this client changes its settings');
      request.clientId = clientId;
      return record;
    };

    app.addHook('onRequest', authenticate);
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    app.get('/:clientId/settings/editable', { schema: { params, response: { 200: editableView } } }, async (request) => {
      const record = recordFor(request.params.clientId, request, false);
      const user = currentUser(request);
      const detail = record.source === 'db' ? await clients.get(record.id) : undefined;
      return {
        editable: record.source === 'db' && user.role !== 'client_viewer',
        source: record.source,
        version: detail?.version ?? null,
        file: record.source === 'file' ? (record.file ?? null) : null,
        editable_keys: [...CLIENT_EDITABLE_KEYS],
        replaceable_secrets:
          record.source === 'db' && record.config !== null
            ? listSecretFields(record.config as ClientConfig)
                .map((field) => formatJsonPath(field.path))
                .filter((path) => mayReplaceSecret(user.role, path))
            : [],
      };
    });

    // Who may write is settled before the body is validated: a viewer, or another client's user,
    // learns nothing about the body's shape (403 / 404, never a 400 first).
    const mayWrite = async (request: Parameters<typeof requireClientAccess>[0] & { params: unknown }) => {
      const { clientId } = request.params as { clientId?: unknown };
      recordFor(typeof clientId === 'string' ? clientId : '', request, true);
    };
    app.patch('/:clientId/settings', { preValidation: mayWrite, schema: { params, body: changeBody, response: { 200: z.object({ version: z.number().nullable() }) } } }, async (request) => {
      const record = recordFor(request.params.clientId, request, true);
      if (record.source === 'file') {
        throw new AppError('client_managed_by_file', `These settings come from ${record.file ?? 'a config file'}; edit that file (changes load within 2 seconds)`);
      }
      const changes = Object.fromEntries(Object.entries(request.body.changes).filter(([, value]) => value !== undefined));
      const user = currentUser(request);
      refuseSecretsBeyondRole(user.role, Object.keys(request.body.secrets ?? {}));
      try {
        const detail = await clients.update({ userId: user.id, requestId: request.id }, record.id, changes, request.body.version, request.body.secrets);
        return { version: detail.version };
      } catch (error) {
        throw user.role === 'platform_admin' ? error : withoutOtherClients(error);
      }
    });

    // Renders a draft with the sending code path; writes nothing, so file-backed clients may preview too.
    app.post('/:clientId/settings/preview', { preValidation: mayWrite, schema: { params, body: previewBody, response: { 200: previewView } } }, async (request, reply) => {
      const record = recordFor(request.params.clientId, request, true);
      if (record.config === null) throw new AppError('conflict', 'The configuration is invalid; fix it before previewing templates');
      const decision = await deps.rateLimiter.hit(record.id, 'settings-preview', PREVIEW_REQUESTS_PER_MINUTE);
      if (!decision.allowed) {
        throw new AppError('rate_limited', `At most ${PREVIEW_REQUESTS_PER_MINUTE} previews a minute`, { 'retry-after': String(decision.retryAfterSeconds) });
      }
      void reply.header('x-ratelimit-remaining', String(decision.remaining));
      return previewTemplates(record.config, request.body.templates, new Date());
    });
  };
}
