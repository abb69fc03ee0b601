/**
 * Runs one agent function for one client: validates the arguments, dispatches to the built-in or
 * custom implementation, and always produces something the agent can say. Every invocation is
 * recorded in function_calls (arguments without secrets, outcome, latency).
 */
import type { ServableClient } from '../clients/client.schema.ts';
import type { FunctionContext } from './function-context.ts';
import { renderTemplate } from '../integrations/templates/templates.ts';
import { insertFunctionCall } from './functions.repo.ts';
import { withDeadline } from '../platform/deadline.ts';
import { recordFailure, withSpan, type Span } from '../platform/tracing.ts';
import { ProviderError } from '../platform/provider-http.ts';
import { BUILTINS, FunctionFailure, type FunctionCallContext, type FunctionReply } from './builtins.ts';
import { callHttpFunction } from './custom-http.ts';
import { BUILTIN_ARGS, type EnabledFunction } from './function-catalog.ts';

/** Retell passes at most this much of a reply to the LLM. */
export const MAX_REPLY_CHARS = 15_000;
/** The agent must have an answer well before Retell's own tool timeout. */
export const FUNCTION_DEADLINE_MS = 8_000;

const APOLOGY = "I'm sorry, I'm having trouble with that right now. I can take a message and have someone call you back.";

const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|auth/i;

/** Arguments as stored: anything that looks like a credential is masked. */
export function redactArgs(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[REDACTED]' : v]));
}

/** Keeps a reply under Retell's limit: extra data goes first, then the spoken text is cut. */
export function capReply(reply: FunctionReply): FunctionReply {
  if (JSON.stringify(reply).length <= MAX_REPLY_CHARS) return reply;
  const result = reply.result.length > MAX_REPLY_CHARS - 100 ? `${reply.result.slice(0, MAX_REPLY_CHARS - 100)}…` : reply.result;
  return { result, truncated: true };
}

async function run(client: ServableClient, fn: EnabledFunction, args: Record<string, unknown>, ctx: FunctionCallContext, call: Record<string, unknown> | null, deps: FunctionContext): Promise<FunctionReply> {
  switch (fn.kind) {
    case 'builtin': {
      const parsed = BUILTIN_ARGS[fn.name].safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.') || 'the details';
        throw new FunctionFailure('invalid_arguments', `Sorry, I need a valid ${field.replaceAll('_', ' ')} to do that. Could you tell me again?`);
      }
      const handler = BUILTINS[fn.name] as (c: ServableClient, a: unknown, x: FunctionCallContext, d: FunctionContext) => Promise<FunctionReply>;
      return handler(client, parsed.data, ctx, deps);
    }
    case 'static': {
      const values: Record<string, string> = { business_name: client.config.name };
      for (const [k, v] of Object.entries(args)) values[k] = typeof v === 'string' ? v : JSON.stringify(v);
      return { result: renderTemplate(fn.response, values, { escapeHtml: false }).text };
    }
    case 'http': {
      const outcome = await callHttpFunction(fn, { clientId: client.id, callId: ctx.callId, name: fn.name, args, call });
      if (!outcome.ok) throw new FunctionFailure(outcome.code, APOLOGY);
      const body = outcome.body;
      if (body && typeof body === 'object' && !Array.isArray(body)) {
        const object = body as Record<string, unknown>;
        return { ...object, result: typeof object.result === 'string' ? object.result : JSON.stringify(object) };
      }
      return { result: typeof body === 'string' ? body : JSON.stringify(body) };
    }
  }
}

/** The reply the agent gets, whatever happened: a failure becomes something it can say. */
async function runToReply(
  client: ServableClient,
  fn: EnabledFunction,
  args: Record<string, unknown>,
  ctx: FunctionCallContext,
  call: Record<string, unknown> | null,
  deps: FunctionContext,
  span: Span,
): Promise<{ reply: FunctionReply; errorCode: string | null }> {
  try {
    const reply = await withDeadline(run(client, fn, args, ctx, call, deps), FUNCTION_DEADLINE_MS, () => {
      throw new FunctionFailure('timeout', APOLOGY);
    });
    return { reply, errorCode: null };
  } catch (error) {
    if (error instanceof FunctionFailure) return { reply: { result: error.speakable, error: error.code }, errorCode: error.code };
    const errorCode = error instanceof ProviderError ? `provider_${error.code ?? error.status ?? 'error'}` : 'internal_error';
    deps.logger.error({ client_id: client.id, function: fn.name, err: error }, 'function failed');
    recordFailure(span, error);
    return { reply: { result: APOLOGY, error: errorCode }, errorCode };
  }
}

export async function invokeFunction(
  client: ServableClient,
  fn: EnabledFunction,
  args: Record<string, unknown>,
  ctx: FunctionCallContext,
  call: Record<string, unknown> | null,
  deps: FunctionContext,
): Promise<FunctionReply> {
  const started = performance.now();
  // A span per function run: its name and kind, and how it ended (never its arguments or reply).
  const { reply, errorCode } = await withSpan(`function ${fn.name}`, { attributes: { 'xlnc.function.name': fn.name, 'xlnc.function.kind': fn.kind } }, async (span) => {
    const outcome = await runToReply(client, fn, args, ctx, call, deps, span);
    span.setAttribute('xlnc.function.outcome', outcome.errorCode ?? 'ok');
    return outcome;
  });
  const latencyMs = Math.round(performance.now() - started);
  // Recorded after the reply is decided and not waited for: the caller is on the line.
  void deps.tenancy
    .withTenant(client.id, (tx) =>
      insertFunctionCall(tx, client.id, {
        callId: ctx.callId,
        name: fn.name,
        args: redactArgs(args),
        outcome: errorCode ? 'error' : 'ok',
        errorCode,
        latencyMs,
      }),
    )
    .catch((error: unknown) => deps.logger.error({ client_id: client.id, err: error }, 'could not record function call'));
  return capReply(reply);
}
