/**
 * The client API under /api/clients/:clientId: a client's users read their own client's calls,
 * appointments, messages, analytics and settings; platform admins read any client's.
 * Every route runs, before anything is parsed: authenticate (401) → client access (404 for another
 * client, so existence never leaks) → the client exists (404) → per-client rate limit (429).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ClientRecord } from '../clients/client.schema.ts';
import { analyticsQuery, analyticsSchema } from '../analytics/analytics.schemas.ts';
import { analyticsPeriod, createAnalyticsService } from '../analytics/analytics.service.ts';
import { authenticate, currentUser, requireClientAccess } from '../auth/auth.guard.ts';
import type { Deps } from '../deps.ts';
import { issueLiveTicket, LIVE_TICKET_TTL_SECONDS } from '../live/live-ticket.ts';
import { liveTicketSchema } from '../live/live.schemas.ts';
import { AppError } from '../platform/errors.ts';
import {
  appointmentChange,
  appointmentPage,
  appointmentParams,
  customerDetail,
  customerPage,
  customerParams,
  freeSlotsQuery,
  freeSlotsSchema,
  listCustomersQuery,
  rescheduleBody,
  callDetail,
  callPage,
  callParams,
  clientParams,
  exportCallsQuery,
  listAppointmentsQuery,
  listCallsQuery,
  listMessagesQuery,
  messagePage,
  settingsSchema,
} from './client-api.schemas.ts';
import { callFilterFrom, createClientApiService } from './client-api.service.ts';
import { createAppointmentChangesService } from './appointment-changes.service.ts';

/** Requests per client per minute across the whole client API (all of that client's users together). */
/** Default of a client's `limits.client_api_per_minute`. */
export const CLIENT_API_REQUESTS_PER_MINUTE = 600;

const TAGS = ['Client API'];
const security = [{ bearerAuth: [] }];

declare module 'fastify' {
  interface FastifyRequest {
    /** The client named in a client-API URL, after the caller was allowed to see it. */
    clientRecord?: ClientRecord;
  }
}

function clientOf(request: FastifyRequest): ClientRecord {
  if (!request.clientRecord) throw new AppError('internal_error', 'client guard did not run');
  return request.clientRecord;
}

/** The client's timezone: dates in queries and analytics buckets are local to it. */
const timezoneOf = (record: ClientRecord) => record.config?.timezone ?? 'UTC';

export function clientApiRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<ZodTypeProvider>();
    const service = createClientApiService({ tenancy: deps.tenancy, publicBaseUrl: deps.config.publicBaseUrl });
    const analytics = createAnalyticsService({ tenancy: deps.tenancy });
    const changes = createAppointmentChangesService({ tenancy: deps.tenancy, adapters: deps.adapters });

    // Who may change appointments is settled before the body is validated: a viewer learns nothing
    // about the body's shape (403, never a 400 first). Runs after the onRequest guard below (401, 404).
    const adminsOnly = async (request: FastifyRequest) => {
      if (currentUser(request).role === 'client_viewer') throw new AppError('forbidden', "Only an admin of this client changes its appointments");
    };

    app.addHook('onRequest', authenticate);
    app.addHook('onRequest', async (request, reply) => {
      const parsed = clientParams.safeParse(request.params);
      if (!parsed.success) throw new AppError('not_found', 'Not found');
      const { clientId } = parsed.data;
      requireClientAccess(request, clientId);
      const record = deps.registry.get(clientId);
      if (!record) throw new AppError('not_found', 'Not found');
      request.clientId = clientId;
      request.clientRecord = record;
      request.log = request.log.child({ client_id: clientId });

      const limit = record.config?.limits.client_api_per_minute ?? CLIENT_API_REQUESTS_PER_MINUTE;
      const decision = await deps.rateLimiter.hit(clientId, 'client-api', limit);
      reply.header('x-ratelimit-limit', String(limit));
      reply.header('x-ratelimit-remaining', String(decision.remaining));
      if (!decision.allowed) {
        throw new AppError('rate_limited', `Client API rate limit of ${limit}/min exceeded`, {
          'retry-after': String(decision.retryAfterSeconds),
        });
      }
    });

    app.get(
      '/:clientId/calls',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'List calls, newest first',
          description:
            'Cursor-paginated. `outcome` is derived per call, first match wins: booked (an appointment carries the call id), ' +
            'message (a message was taken), voicemail, no_answer (never connected), other.',
          params: clientParams,
          querystring: listCallsQuery,
          response: { 200: callPage },
        },
      },
      async (request) => service.listCalls(request.params.clientId, timezoneOf(clientOf(request)), request.query),
    );

    app.get(
      '/:clientId/calls.csv',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'Export calls as CSV (streamed)',
          description:
            'Same filters as the list, every matching call, newest first. Cells that a spreadsheet would run as a formula are prefixed with `\'`.',
          params: clientParams,
          querystring: exportCallsQuery,
          response: {
            200: {
              description: 'CSV (RFC 4180, UTF-8, CRLF), one header row then one row per call.',
              content: { 'text/csv': { schema: z.string() } },
            },
          },
        },
      },
      async (request, reply) => {
        const record = clientOf(request);
        const filter = callFilterFrom(request.query, timezoneOf(record));
        const chunks = service.exportCallsCsv(record.id, filter);
        // The header and first batch are read before answering, so a failing query is a proper
        // error response rather than a truncated 200.
        const first = await chunks.next();
        const second = first.done ? first : await chunks.next();
        async function* rest(): AsyncGenerator<string> {
          if (!first.done) yield first.value;
          if (!second.done) yield second.value;
          yield* chunks;
        }
        const day = new Date().toISOString().slice(0, 10);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="calls-${record.id}-${day}.csv"`)
          .header('cache-control', 'no-store')
          // The schema documents the CSV text; Fastify pipes a stream as is, without serializing it.
          .send(Readable.from(rest()) as unknown as string);
      },
    );

    app.get(
      '/:clientId/calls/:callId',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'One call: transcript, analysis, events, function calls, messages, appointment',
          params: callParams,
          response: { 200: callDetail },
        },
      },
      async (request) => service.getCall(request.params.clientId, request.params.callId),
    );

    app.get(
      '/:clientId/appointments',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'List appointments by start time',
          params: clientParams,
          querystring: listAppointmentsQuery,
          response: { 200: appointmentPage },
        },
      },
      async (request) => service.listAppointments(request.params.clientId, timezoneOf(clientOf(request)), request.query),
    );

    app.get(
      '/:clientId/appointments/free-slots',
      {
        schema: {
          tags: TAGS,
          security,
          summary: "A day's free appointment slots in the client's timezone (what a reschedule may pick)",
          params: clientParams,
          querystring: freeSlotsQuery,
          response: { 200: freeSlotsSchema },
        },
      },
      async (request) => changes.freeSlots(clientOf(request), request.query.date),
    );

    app.post(
      '/:clientId/appointments/:appointmentId/cancel',
      {
        preValidation: adminsOnly,
        schema: {
          tags: TAGS,
          security,
          summary: 'Cancel an upcoming appointment (client admins)',
          description:
            "Removes it from the client's calendar (Zoho too), emits appointment.cancelled and writes the audit log. " +
            'Cancelling a cancelled appointment changes nothing and answers 200 with `changed: false`. ' +
            'Errors: 403 for a viewer, 404 for an unknown id, 409 `appointment_in_past` once it has started.',
          params: appointmentParams,
          response: { 200: appointmentChange },
        },
      },
      async (request) =>
        changes.cancel({ userId: currentUser(request).id, requestId: request.id }, clientOf(request), request.params.appointmentId),
    );

    app.post(
      '/:clientId/appointments/:appointmentId/reschedule',
      {
        preValidation: adminsOnly,
        schema: {
          tags: TAGS,
          security,
          summary: 'Move an upcoming appointment to another free slot (client admins)',
          description:
            'The same rules as the agent booking: business hours and holidays (422 `outside_hours`), the slot grid, notice and horizon (422 `invalid_time`), ' +
            'other bookings and busy calendar time (409 `slot_taken`, with free times nearby in the message). Moving it to where it already is changes nothing (`changed: false`). ' +
            "Updates the client's calendar (Zoho too), emits appointment.rescheduled and writes the audit log. 409 `appointment_in_past` / `appointment_cancelled`.",
          params: appointmentParams,
          body: rescheduleBody,
          response: { 200: appointmentChange },
        },
      },
      async (request) =>
        changes.reschedule({ userId: currentUser(request).id, requestId: request.id }, clientOf(request), request.params.appointmentId, request.body.start),
    );

    app.get(
      '/:clientId/customers',
      {
        schema: {
          tags: TAGS,
          security,
          summary: "The client's callers, most recent call first",
          description: 'Cursor-paginated. Counts of calls, appointments and messages per caller.',
          params: clientParams,
          querystring: listCustomersQuery,
          response: { 200: customerPage },
        },
      },
      async (request) => service.listCustomers(request.params.clientId, request.query),
    );

    app.get(
      '/:clientId/customers/:customerId',
      {
        schema: {
          tags: TAGS,
          security,
          summary: "One caller with their calls, appointments and messages",
          params: customerParams,
          response: { 200: customerDetail },
        },
      },
      async (request) => service.getCustomer(request.params.clientId, request.params.customerId),
    );

    app.get(
      '/:clientId/messages',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'List SMS and email messages, newest first',
          params: clientParams,
          querystring: listMessagesQuery,
          response: { 200: messagePage },
        },
      },
      async (request) => service.listMessages(request.params.clientId, timezoneOf(clientOf(request)), request.query),
    );

    app.get(
      '/:clientId/analytics',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'Call, booking, message and function figures for a period',
          params: clientParams,
          querystring: analyticsQuery,
          response: { 200: analyticsSchema },
        },
      },
      async (request) => {
        const record = clientOf(request);
        return analytics.forPeriod(record.id, analyticsPeriod(request.query, timezoneOf(record)));
      },
    );

    app.post(
      '/:clientId/live/ticket',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'A 60-second ticket to open the live stream (GET …/live), since EventSource cannot send a bearer token',
          params: clientParams,
          response: { 200: liveTicketSchema },
        },
      },
      async (request) => {
        const record = clientOf(request);
        const now = Math.floor(Date.now() / 1000);
        return {
          ticket: issueLiveTicket(currentUser(request), record.id, deps.config.jwtSecret, now),
          expires_at: new Date((now + LIVE_TICKET_TTL_SECONDS) * 1000).toISOString(),
        };
      },
    );

    app.get(
      '/:clientId/settings',
      {
        schema: {
          tags: TAGS,
          security,
          summary: 'The client configuration with secrets masked, and the URLs to paste into Retell',
          params: clientParams,
          response: { 200: settingsSchema },
        },
      },
      async (request) => service.settings(clientOf(request), currentUser(request).role),
    );
  };
}
