/**
 * /api/admin alerts: the operator's health alerts, platform admins only. Client users get 403
 * even for their own client: an alert says what the operator must do (rotate a key, fix the
 * provider account), and client health reaches clients through their own dashboard. An unknown
 * client, or an alert id of another client, is 404.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from '../auth/auth.guard.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import type { AlertRow } from './alerts.repo.ts';
import { acknowledgeAlert, getClientAlert, listClientAlerts, listOpenAlertsOfAllClients, openAlertCounts, resolveAlert } from './alerts.service.ts';
import { ALERT_KINDS, alertKindLabel } from './detectors.ts';

export const alertView = z.object({
  id: z.string(),
  client_id: z.string(),
  kind: z.enum(ALERT_KINDS),
  label: z.string().describe('The kind in words, as the operator notices say it.'),
  severity: z.enum(['critical', 'warning']),
  state: z.enum(['open', 'acknowledged', 'resolved']),
  summary: z.string().describe('What was seen.'),
  action: z.string().describe('What to do about it.'),
  details: z.record(z.string(), z.unknown()),
  opened_at: z.string(),
  last_seen_at: z.string(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: z.string().nullable(),
  resolved_by: z.string().nullable().describe('`detector` (the problem went away) or the user id who resolved it.'),
  reminders: z.number(),
});
export type AlertView = z.infer<typeof alertView>;

export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    client_id: row.clientId,
    kind: row.kind as AlertView['kind'],
    label: alertKindLabel(row.kind),
    severity: row.severity === 'critical' ? 'critical' : 'warning',
    state: row.state as AlertView['state'],
    summary: row.summary,
    action: row.action,
    details: row.details as Record<string, unknown>,
    opened_at: row.openedAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    acknowledged_at: row.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: row.acknowledgedBy,
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    resolved_by: row.resolvedBy,
    reminders: row.reminders,
  };
}

const clientParams = z.object({ clientId: z.string().min(1).max(100) });
const alertParams = clientParams.extend({ alertId: z.uuid() });
/** Acknowledge and resolve take no fields: an empty JSON object (or no body). */
const emptyBody = z.object({}).strict().optional();
const listQuery = z.object({
  state: z.enum(['active', 'resolved', 'all']).default('all').describe('active: open or acknowledged.'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.iso.datetime({ offset: true }).optional().describe('Older than this opened_at (the last item of the previous page).'),
});

export function alertsRoutes(deps: Deps): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();
    app.addHook('onRequest', authenticate);
    app.addHook('onRequest', requireRole('platform_admin'));
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    const knownClient = (request: FastifyRequest & { params: { clientId: string } }) => {
      if (!deps.registry.get(request.params.clientId)) throw new AppError('not_found', `No client ${request.params.clientId}`);
      return request.params.clientId;
    };

    app.get(
      '/alerts',
      {
        schema: {
          response: {
            200: z.object({
              alerts: z.array(alertView).describe('Every open or acknowledged alert, newest first.'),
              counts: z.array(z.object({ client_id: z.string(), kind: z.enum(ALERT_KINDS), count: z.number() })),
            }),
          },
        },
      },
      async () => {
        const [rows, counts] = await Promise.all([listOpenAlertsOfAllClients(deps.tenancy, 500), openAlertCounts(deps.tenancy)]);
        return { alerts: rows.map(toAlertView), counts: counts.map((c) => ({ client_id: c.clientId, kind: c.kind as AlertView['kind'], count: c.count })) };
      },
    );

    app.get('/clients/:clientId/alerts', { schema: { params: clientParams, querystring: listQuery, response: { 200: z.object({ alerts: z.array(alertView) }) } } }, async (request) => {
      const clientId = knownClient(request);
      const rows = await listClientAlerts(deps.tenancy, clientId, request.query.state, request.query.limit, request.query.before ? new Date(request.query.before) : undefined);
      return { alerts: rows.map(toAlertView) };
    });

    app.get('/clients/:clientId/alerts/:alertId', { schema: { params: alertParams, response: { 200: z.object({ alert: alertView }) } } }, async (request) => ({
      alert: toAlertView(await getClientAlert(deps.tenancy, knownClient(request), request.params.alertId)),
    }));

    app.post('/clients/:clientId/alerts/:alertId/acknowledge', { schema: { params: alertParams, body: emptyBody, response: { 200: z.object({ alert: alertView }) } } }, async (request) => ({
      alert: toAlertView(await acknowledgeAlert(deps.tenancy, knownClient(request), request.params.alertId, currentUser(request).id)),
    }));

    app.post('/clients/:clientId/alerts/:alertId/resolve', { schema: { params: alertParams, body: emptyBody, response: { 200: z.object({ alert: alertView }) } } }, async (request) => ({
      alert: toAlertView(await resolveAlert(deps, knownClient(request), request.params.alertId, currentUser(request).id)),
    }));
  };
}
