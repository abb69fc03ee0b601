/**
 * The live view's stream: GET /api/clients/:clientId/live?ticket=… answers text/event-stream
 * (live.service.ts says what flows). EventSource cannot send an Authorization header, so the
 * caller proves itself with a ticket from POST …/live/ticket (client-api.routes.ts, behind the
 * client API's guards). Before the stream opens: ticket (401) → issued for this client (404, as
 * for any other client's resource) → session not ended (401) → client exists (404) → at most
 * MAX_STREAMS_PER_CLIENT open on this instance (429). Every stream ends when the server closes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientParams } from '../client-api/client-api.schemas.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { verifyLiveTicket } from './live-ticket.ts';
import { LIVE_STREAM_DESCRIPTION, liveStreamQuery } from './live.schemas.ts';
import { openLiveStream } from './live.service.ts';

/** Streams one client may hold open on one instance (each reads the client's live calls four times a second). */
export const MAX_STREAMS_PER_CLIENT = 20;

function lastEventIdOf(header: string | string[] | undefined, query: string | undefined): number | undefined {
  const raw = query ?? (typeof header === 'string' ? header.trim() : undefined);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new AppError('invalid_payload', 'Last-Event-ID must be an event id from this stream');
  return Number(raw);
}

export function liveRoutes(deps: Deps, options: { pollMs?: number; heartbeatMs?: number } = {}): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<ZodTypeProvider>();
    const open = new Map<ServerResponse, () => void>();
    const perClient = new Map<string, number>();

    // preClose: while the server still runs, so closing waits on no stream.
    app.addHook('preClose', async () => {
      for (const [response, stop] of open) {
        stop();
        response.end();
      }
      open.clear();
    });

    app.get(
      '/:clientId/live',
      {
        schema: {
          tags: ['Client API'],
          summary: 'Calls in progress, live (server-sent events)',
          description: LIVE_STREAM_DESCRIPTION,
          params: clientParams,
          querystring: liveStreamQuery,
          response: {
            200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          },
        },
      },
      async (request, reply) => {
        const { clientId } = request.params;
        const check = verifyLiveTicket(request.query.ticket, clientId, deps.config.jwtSecret);
        if (!check.ok) {
          if (check.reason === 'other_client') throw new AppError('not_found', 'Not found');
          throw new AppError('unauthorized', check.reason === 'expired' ? 'Live ticket expired; ask for a new one' : 'Invalid live ticket');
        }
        if (await request.server.accessTokens.revocations.isRevoked(check.ticket.userId, check.ticket.issuedAt)) {
          throw new AppError('unauthorized', 'Session ended; sign in again');
        }
        if (!deps.registry.get(clientId)) throw new AppError('not_found', 'Not found');
        const afterSeq = lastEventIdOf(request.headers['last-event-id'], request.query.last_event_id);
        const count = perClient.get(clientId) ?? 0;
        if (count >= MAX_STREAMS_PER_CLIENT) {
          throw new AppError('rate_limited', `At most ${MAX_STREAMS_PER_CLIENT} live streams per client`, { 'retry-after': '10' });
        }
        request.clientId = clientId;
        perClient.set(clientId, count + 1);
        const release = () => {
          const left = (perClient.get(clientId) ?? 1) - 1;
          if (left > 0) perClient.set(clientId, left);
          else perClient.delete(clientId);
        };

        const response = reply.raw;
        // Frames written before the headers (the snapshot) wait here until they are sent.
        let pending: string[] | undefined = [];
        let stop: () => void;
        try {
          // Read before answering: a failing read is an error response, not a stream that says nothing.
          stop = await openLiveStream(
            { tenancy: deps.tenancy, eventFeed: deps.eventFeed, onError: (error) => request.log.warn({ err: error }, 'live stream read failed') },
            clientId,
            (frame) => {
              if (pending) pending.push(frame);
              else if (!response.writableEnded) response.write(frame);
            },
            { afterSeq, ...options },
          );
        } catch (error) {
          release();
          throw error;
        }
        reply.hijack();
        // The headers set so far (helmet's, the request id) go out with the stream's own.
        response.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          // nginx and similar proxies would otherwise buffer the stream.
          'x-accel-buffering': 'no',
        });
        response.write(pending.join(''));
        pending = undefined;
        open.set(response, stop);
        response.on('close', () => {
          stop();
          open.delete(response);
          release();
        });
      },
    );
  };
}
