/**
 * POST /api/webhooks/retell/:clientId — every Retell call event, and call_inbound.
 * Checks, in order: client (404/403/503) → size (413) → signature (401) → JSON and schema (400)
 * → agent ownership (403) → rate limit (429); then ingest in one transaction and answer.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ServableClient } from '../../clients/client.schema.ts';
import { clientMetricLabel, requireServableClient } from '../../clients/clients.service.ts';
import type { Deps } from '../../deps.ts';
import { BODY_LIMIT_BYTES } from '../../platform/config.ts';
import { AppError, type ErrorCode } from '../../platform/errors.ts';
import { recordSpan, setActiveAttributes, spanClock } from '../../platform/tracing.ts';
import { parseRetellEvent, type ParsedEvent, type RetellCall } from './retell-events.schemas.ts';
import { verifyRetellSignature } from './retell-signature.ts';
import { ingestRetellEvent } from './webhooks.service.ts';
import { createInboundSpool } from './inbound-spool.ts';
import { buildInboundResponse } from '../../functions/inbound.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    client?: ServableClient;
  }
}

const params = z.object({ clientId: z.string().min(1).max(100) });

const DEFAULT_WEBHOOKS_PER_MINUTE = 600;

function agentOf(parsed: ParsedEvent): string | undefined {
  switch (parsed.kind) {
    case 'call':
      return parsed.call.agent_id;
    case 'inbound':
      return parsed.inbound.agent_id;
    case 'other':
      return undefined;
  }
}

/**
 * Whether this accepted event starts the call's trace (emits its root span): call_inbound does for
 * inbound phone calls; call_started for the calls that have none (outbound and web calls).
 */
function startsTrace(event: string, call: RetellCall): boolean {
  return event === 'call_started' && !(call.call_type === 'phone_call' && call.direction === 'inbound');
}

/** Verifies a Retell-signed request for the client resolved from the URL; returns the raw body. */
export function verifyRetellRequest(client: ServableClient, request: FastifyRequest): Buffer {
  const body: unknown = request.body;
  const raw: Buffer = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const header = request.headers['x-retell-signature'];
  const check = verifyRetellSignature(raw, client.config.retell.api_key, typeof header === 'string' ? header : undefined);
  if (check === 'stale') throw new AppError('stale_signature', 'Signature timestamp is outside the accepted window');
  if (check !== 'valid') throw new AppError('invalid_signature', 'Missing or invalid x-retell-signature');
  return raw;
}

/** Raw-bytes body parsing for signed routes: signatures are over the exact bytes received. */
export const rawBodyParsing: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, body);
  });
};

/** Resolves the client named in the URL before the body is read, so an unknown client costs nothing. */
export function resolveClientHook(deps: Deps) {
  return async (request: FastifyRequest) => {
    const { clientId } = params.parse(request.params);
    request.clientId = clientId;
    request.log = request.log.child({ client_id: clientId });
    request.client = requireServableClient(deps.registry, clientId);
  };
}

export function retellWebhookRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    await rawBodyParsing(app, {});
    // call_inbound answered while the database is away is stored from here once it is back.
    const spool = createInboundSpool(deps.config.dataDir, deps);
    app.addHook('onReady', async () => spool.start());
    app.addHook('onClose', async () => spool.close());

    const count = (request: FastifyRequest, event: string, outcome: string) =>
      deps.metrics.webhookEvents.inc({ client_id: request.client?.id ?? clientMetricLabel(deps.registry, request.clientId), event, outcome });

    app.addHook('onRequest', resolveClientHook(deps));

    app.addHook('onError', async (request, _reply, error) => {
      const code: ErrorCode | 'payload_too_large' =
        error instanceof AppError ? error.code : (error as { statusCode?: number }).statusCode === 413 ? 'payload_too_large' : 'internal_error';
      count(request, 'unknown', code);
      // A burst of these is a rotated Retell key: the signature_failures detector counts them.
      if ((code === 'invalid_signature' || code === 'stale_signature') && request.client) {
        await deps.health.hit(request.client.id, 'signature_failure').catch((e: unknown) => request.log.warn({ err: e }, 'health counter unavailable'));
      }
    });

    // Its request span joins the call's trace once the verified body names the call.
    app.post('/:clientId', { config: { tracing: 'deferred' } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const started = performance.now();
      const client = request.client!;
      const verifyStarted = spanClock();
      const raw = verifyRetellRequest(client, request);
      const verified = spanClock();

      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AppError('invalid_payload', 'Body is not valid JSON');
      }
      const result = parseRetellEvent(body);
      if (!result.ok) throw new AppError('invalid_payload', result.message);
      const parsed = result.value;
      const callId = parsed.kind === 'call' ? parsed.call.call_id : parsed.kind === 'inbound' ? parsed.inbound.call_id : undefined;
      return deps.tracing.inRequestSpan(request, callId ? deps.tracing.callParent(client.id, callId) : undefined, async () => {
        recordSpan('retell.verify_signature', verifyStarted, verified);
        setActiveAttributes({ 'retell.event': parsed.event, ...(callId ? { 'retell.call_id': callId } : {}) });

        const agentId = agentOf(parsed);
        if (agentId !== undefined && !client.config.retell.agent_ids.includes(agentId)) {
          throw new AppError('agent_not_owned', `Agent ${agentId} does not belong to client ${client.id}`);
        }

        const limit = client.config.limits?.webhooks_per_minute ?? DEFAULT_WEBHOOKS_PER_MINUTE;
        const decision = await deps.rateLimiter.hit(client.id, 'webhooks', limit);
        if (!decision.allowed) {
          throw new AppError('rate_limited', `Webhook rate limit of ${limit}/min exceeded`, {
            'retry-after': String(decision.retryAfterSeconds),
          });
        }

        if (callId) request.log = request.log.child({ call_id: callId });

        if (parsed.kind === 'inbound') {
          // The caller hears ringing until we answer: context first, and never fail the call.
          const { response, decision } = await buildInboundResponse(client, parsed.inbound, deps).catch((error: unknown) => {
            request.log.error({ err: error }, 'call_inbound context failed; answering without it');
            return { response: { call_inbound: { metadata: { client_id: client.id } } }, decision: 'accepted' as const };
          });
          deps.metrics.inboundCalls.inc({ client_id: client.id, decision });
          setActiveAttributes({ 'xlnc.inbound.decision': decision });
          if (decision !== 'accepted') {
            void deps.health.hit(client.id, 'capacity_hit').catch((e: unknown) => request.log.warn({ err: e }, 'health counter unavailable'));
          }
          const stored = { ...parsed, payload: { ...parsed.payload, xlnc_decision: decision } };
          const outcome = await ingestRetellEvent(client, stored, raw, deps).then(
            (r) => r.outcome,
            async (error: unknown) => {
              // Answered all the same (the call must connect), so it must not be lost: spooled on disk first.
              request.log.warn({ err: error }, 'call_inbound could not be stored now; spooling it');
              return spool.append({ client_id: client.id, body: raw.toString('utf8'), decision }).then(
                () => 'spooled' as const,
                (spoolError: unknown) => {
                  request.log.error({ err: spoolError }, 'call_inbound could be neither stored nor spooled');
                  return 'store_failed' as const;
                },
              );
            },
          );
          if (outcome === 'accepted' && callId) deps.tracing.markCallStart(client.id, callId);
          count(request, parsed.event, outcome);
          deps.metrics.webhookDuration.observe({ event: parsed.event, outcome }, (performance.now() - started) / 1000);
          // No line of its own: the request's one "request completed" line carries these.
          request.log = request.log.child({ event: parsed.event, outcome, decision });
          return reply.code(200).send(response);
        }

        const { outcome } = await ingestRetellEvent(client, parsed, raw, deps);
        if (outcome === 'accepted' && parsed.kind === 'call' && startsTrace(parsed.event, parsed.call)) deps.tracing.markCallStart(client.id, parsed.call.call_id);
        count(request, parsed.event, outcome);
        deps.metrics.webhookDuration.observe({ event: parsed.event, outcome }, (performance.now() - started) / 1000);
        request.log = request.log.child({ event: parsed.event, outcome });
        return reply.code(204).send();
      });
    });
  };
}
