/**
 * The HTTP surface. `buildApp` returns a configured Fastify instance and never listens; reading
 * the route registrations below shows every endpoint the platform exposes.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type RawServerDefault } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from './deps.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { alertsRoutes } from './alerts/alerts.routes.ts';
import { clientSettingsRoutes } from './admin/client-settings.routes.ts';
import { registerAuth } from './auth/auth.guard.ts';
import { accountRoutes } from './auth/accounts.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { brandingRoutes } from './clients/branding.routes.ts';
import { clientMetricLabel } from './clients/clients.service.ts';
import { clientApiRoutes } from './client-api/client-api.routes.ts';
import { dashboardRoutes } from './dashboard/dashboard.routes.ts';
import { liveRoutes } from './live/live.routes.ts';
import { registerOpenApi } from './client-api/openapi.ts';
import { onboardingRoutes } from './onboarding/onboarding.routes.ts';
import { opsRoutes } from './ops/ops.routes.ts';
import { failedJobsRoutes } from './ops/failed-jobs.routes.ts';
import { adminWebhookRoutes, clientWebhookRoutes } from './outbound-webhooks/outbound-webhooks.routes.ts';
import { retellFunctionRoutes } from './functions/functions.routes.ts';
import { retellWebhookRoutes } from './webhooks/retell/webhooks.routes.ts';
import { twilioWebhookRoutes } from './webhooks/twilio/twilio.routes.ts';
import { BODY_LIMIT_BYTES } from './platform/config.ts';
import { AppError, codeForStatus, databaseUnavailableError, errorEnvelope, isDatabaseUnavailable, type ErrorCode } from './platform/errors.ts';
import { registerInputRules } from './platform/input-rules.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by routes that resolve a client, so metrics and logs carry it. */
    clientId?: string;
  }
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export async function buildApp(deps: Deps): Promise<App> {
  // Typed as Fastify's logger interface so the instance type stays the default one.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // A hop count: the client IP is taken that many proxies back in X-Forwarded-For, never more.
    trustProxy: (_address: string, hop: number) => hop < deps.config.trustProxyHops,
    routerOptions: { ignoreTrailingSlash: true },
    // The router's own refusals (malformed percent-encoding 400, a path segment over 100
    // characters 414) in the envelope, like every other error.
    frameworkErrors: (error: FastifyError, request, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      const message = error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL: invalid percent-encoding' : error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long' : 'Bad request';
      void reply.code(status).header('x-request-id', request.id).send(errorEnvelope(codeForStatus(status), message, request.id));
    },
    clientErrorHandler: (error, socket) => writeClientError(error, socket, deps.logger),
  }).withTypeProvider<ZodTypeProvider>();

  // First, so its onRoute hook sees every route and its onRequest hook times the whole request.
  deps.tracing.instrumentHttp(app, { clientIdOf: (request) => (request.clientId === undefined ? undefined : clientMetricLabel(deps.registry, request.clientId)) });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerInputRules(app);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequestDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (request.clientId !== undefined) {
      deps.metrics.clientHttpRequests.inc({ client_id: clientMetricLabel(deps.registry, request.clientId), status_class: `${Math.floor(reply.statusCode / 100)}xx` });
    }
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    request.log[level](
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  });

  app.setNotFoundHandler(async (request, reply) => {
    return reply
      .code(404)
      .send(errorEnvelope('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`, request.id));
  });

  app.setErrorHandler(async (error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(error.status).headers(error.headers).send(errorEnvelope(error.code, error.message, request.id, error.issues));
    }
    // A schema parsed in a handler or hook (params.parse) fails like a route schema: a 400, not a 500.
    if (error instanceof z.core.$ZodError) {
      const first = error.issues[0];
      const where = first && first.path.length > 0 ? first.path.join('.') : 'request';
      return reply.code(400).send(errorEnvelope('invalid_payload', `${where}: ${first?.message ?? 'invalid'}`, request.id));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const first = error.validation[0];
      const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : error.validationContext;
      const message = `${where ?? 'request'}: ${first?.message ?? 'invalid'}`;
      return reply.code(400).send(errorEnvelope('invalid_payload', message, request.id));
    }
    if (isDatabaseUnavailable(error)) {
      // One short line per request (no stack): an outage at 50 requests a second is not 50 stack traces a second.
      request.log.warn({ reason: error.message }, 'database unavailable; answered 503');
      const unavailable = databaseUnavailableError();
      return reply.code(unavailable.status).headers(unavailable.headers).send(errorEnvelope(unavailable.code, unavailable.message, request.id));
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'unhandled error');
      // 5xx text is never shown to the caller: it may carry internals.
      return reply.code(status).send(errorEnvelope(codeForStatus(status), 'Internal error', request.id));
    }
    const code = status === 400 && 'code' in error && error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_payload' : codeForStatus(status);
    return reply.code(status).send(errorEnvelope(code, error.message, request.id));
  });

  registerAuth(app, deps.config.jwtSecret, deps.sessions);
  await app.register(helmet, { global: true });
  // Bearer tokens, no cookies: credentials stay off, and only the listed origins get CORS headers.
  await app.register(cors, {
    origin: deps.config.corsOrigins.length > 0 ? [...deps.config.corsOrigins] : false,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-request-id'],
    exposedHeaders: ['etag', 'retry-after', 'x-request-id'],
    maxAge: 600,
  });
  // Before every route: the OpenAPI document collects the routes registered after it.
  await registerOpenApi(app, deps);

  await app.register(opsRoutes(deps));
  await app.register(retellWebhookRoutes(deps), { prefix: '/api/webhooks/retell' });
  await app.register(retellFunctionRoutes(deps), { prefix: '/api/webhooks/retell' });
  await app.register(twilioWebhookRoutes(deps), { prefix: '/api/webhooks/twilio' });
  await app.register(authRoutes(deps), { prefix: '/api/auth' });
  await app.register(accountRoutes(deps), { prefix: '/api' });
  await app.register(adminRoutes(deps), { prefix: '/api/admin' });
  await app.register(alertsRoutes(deps), { prefix: '/api/admin' });
  await app.register(failedJobsRoutes(deps), { prefix: '/api/admin/jobs' });
  await app.register(onboardingRoutes(deps), { prefix: '/api' });
  await app.register(adminWebhookRoutes(deps), { prefix: '/api/admin' });
  await app.register(clientApiRoutes(deps), { prefix: '/api/clients' });
  await app.register(clientSettingsRoutes(deps), { prefix: '/api/clients' });
  await app.register(clientWebhookRoutes(deps), { prefix: '/api/clients' });
  await app.register(liveRoutes(deps), { prefix: '/api/clients' });
  await app.register(brandingRoutes(deps), { prefix: '/api' });
  await app.register(dashboardRoutes(deps));

  return app;
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (headers over 16 KB: 431,
 * garbage: 400, too slow: 408); the answer is still the envelope. The socket is closed after it.
 */
function writeClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex, logger: FastifyBaseLogger): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request_header_fields_too_large', 'Request headers are larger than the server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request was not received in time']
        : [400, 'bad_request', 'Malformed HTTP request'];
  const requestId = randomUUID();
  logger.debug({ err: error, request_id: requestId }, 'client error');
  const body = JSON.stringify(errorEnvelope(code, message, requestId));
  // A HEAD response never has a body, even when the parser gave up on its headers.
  const isHead = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${isHead ? '' : body}`,
    );
  }
  socket.destroy();
}
