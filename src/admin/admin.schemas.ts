/**
 * Response shapes of the admin API, so the OpenAPI document (and the dashboard's generated types)
 * describe what the operator console reads. They mirror `ClientSummary`, `ClientDetail` and
 * `AuditView`; the `satisfies` checks below keep the two in step.
 */
import { z } from 'zod';
import type { ClientDetail, ClientSummary } from './admin-clients.service.ts';
import type { AuditView } from './audit.service.ts';

const integrationView = z.object({
  capability: z.string().describe('calendar | sms | email'),
  provider: z.string(),
  status: z.string().describe('ok, or what is wrong (e.g. auth_failed)'),
  detail: z.string().nullable(),
  updated_at: z.string(),
});

export const clientSummarySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  status: z.enum(['active', 'disabled', 'invalid']),
  source: z.enum(['file', 'db']),
  environment: z.string().nullable().describe('test | live; null when the configuration is invalid'),
  version: z.number().nullable().describe('Database-backed clients only: send as If-Match / version when changing it.'),
  webhook_url: z.string(),
  health: z.object({
    ok: z.boolean().describe('Valid configuration and every integration ok.'),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).describe('Why the configuration is invalid.'),
    integrations: z.array(integrationView),
  }),
});

export const clientListSchema = z.object({ clients: z.array(clientSummarySchema) });

export const clientDetailSchema = clientSummarySchema.extend({
  config: z.record(z.string(), z.unknown()).nullable().describe('The configuration with every secret masked; null when a file cannot be parsed.'),
});

export const auditEntrySchema = z.object({
  id: z.number(),
  actor_user_id: z.string().nullable(),
  actor: z.string().describe('The acting user’s email, or `cli`.'),
  action: z.string(),
  client_id: z.string().nullable(),
  target_id: z.string().nullable(),
  diff: z.unknown().describe('{ changes: [{ path, from, to }] } with secrets masked.'),
  request_id: z.string().nullable(),
  created_at: z.string(),
});

export const auditPageSchema = z.object({
  items: z.array(auditEntrySchema),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page.'),
});

// Compile-time: the service's shapes fit the documented ones.
type Fits<Actual, Documented> = Actual extends Documented ? true : never;
export const shapesFit: [
  Fits<ClientSummary, z.infer<typeof clientSummarySchema>>,
  Fits<ClientDetail, z.infer<typeof clientDetailSchema>>,
  Fits<AuditView, z.infer<typeof auditEntrySchema>>,
] = [true, true, true];
