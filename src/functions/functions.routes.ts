/**
 * POST /api/webhooks/retell/:clientId/functions/:name — the agent's functions during a call.
 * Signed like the call webhooks. Only a bad signature (401) or an unknown or disabled function
 * (404) is an HTTP error; everything else answers 200 with something the agent can say.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { AppError } from '../platform/errors.ts';
import { findInputProblem } from '../platform/input-rules.ts';
import { recordSpan, setActiveAttributes, spanClock } from '../platform/tracing.ts';
import { rawBodyParsing, resolveClientHook, verifyRetellRequest } from '../webhooks/retell/webhooks.routes.ts';
import { findEnabledFunction } from './function-catalog.ts';
import { invokeFunction } from './functions.service.ts';

const params = z.object({ clientId: z.string(), name: z.string().min(1).max(64) });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Retell sends `{ name, call, args }` by default, or only the arguments when the tool has
 * `args_at_root`; the function name then comes from the URL and there is no call context.
 */
function readEnvelope(body: unknown): { args: Record<string, unknown>; call: Record<string, unknown> | null } {
  if (isObject(body) && isObject(body.args) && (isObject(body.call) || typeof body.name === 'string')) {
    return { args: body.args, call: isObject(body.call) ? body.call : null };
  }
  return { args: isObject(body) ? body : {}, call: null };
}

export function retellFunctionRoutes(deps: Deps): FastifyPluginAsync {
  return async (app) => {
    await rawBodyParsing(app, {});
    app.addHook('onRequest', resolveClientHook(deps));

    // Its request span joins the call's trace once the verified body names the call.
    app.post('/:clientId/functions/:name', { config: { tracing: 'deferred' } }, async (request, reply) => {
      const client = request.client!;
      const verifyStarted = spanClock();
      const raw = verifyRetellRequest(client, request);
      const verified = spanClock();
      const { name } = params.parse(request.params);
      const fn = findEnabledFunction(client.config, name);
      if (!fn) throw new AppError('not_found', `No enabled function ${name} for this client`);

      let body: unknown;
      try {
        body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        body = undefined;
      }
      // Unparseable, unstorable (U+0000, lone surrogates) or absurdly nested: the agent asks again.
      if (body === undefined || findInputProblem(body, 'body') !== null) {
        return reply.code(200).send({ result: "Sorry, I didn't get that. Could you say it again?", error: 'invalid_request' });
      }
      const { args, call } = readEnvelope(body);
      const callId = typeof call?.call_id === 'string' ? call.call_id.slice(0, 200) : null;
      return deps.tracing.inRequestSpan(request, callId ? deps.tracing.callParent(client.id, callId) : undefined, async () => {
        recordSpan('retell.verify_signature', verifyStarted, verified);
        setActiveAttributes({ 'xlnc.function.name': name, ...(callId ? { 'retell.call_id': callId } : {}) });
        const agentId = typeof call?.agent_id === 'string' ? call.agent_id : undefined;
        if (agentId !== undefined && !client.config.retell.agent_ids.includes(agentId)) {
          request.log.warn({ agent_id: agentId }, 'function call from an agent of another client');
          return reply.code(200).send({ result: "I'm sorry, I can't help with that on this line.", error: 'agent_not_owned' });
        }
        if (callId) request.log = request.log.child({ call_id: callId });
        const result = await invokeFunction(
          client,
          fn,
          args,
          { callId, fromNumber: typeof call?.from_number === 'string' ? call.from_number : null, now: new Date() },
          call,
          deps,
        );
        request.log.info({ function: name, error: result.error }, 'function call');
        return reply.code(200).send(result);
      });
    });
  };
}
