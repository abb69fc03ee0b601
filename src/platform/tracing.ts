/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands in its own
 * span processor). Spans are made by hand where the platform does something worth seeing: the
 * HTTP request, a Retell event stored, a job enqueued and run, a function call, a provider call.
 *
 * No global tracer provider: `createTracing` builds one per composition root (deps.ts), and the
 * tracer travels in the OpenTelemetry context of the unit of work it started (a request, a job),
 * so code deep in a call (`withSpan`, `startSpan`) needs no tracer passed in and makes nothing
 * when there is none. The only process-wide registration is the AsyncLocalStorage context
 * manager, which carries that context across awaits; it is installed the first time tracing is on.
 *
 * Every span carries `xlnc.client_id` (stamped from the context at start). Attributes are names,
 * identifiers, counts and statuses only: never a URL's query, a body, a transcript, a phone number,
 * an email address or a credential (the booked-call trace test scans for them).
 *
 * A Retell call spans several HTTP requests from Retell (call_inbound, function calls, lifecycle
 * events), none of which carries a traceparent. Each of them joins the call's trace: its trace id
 * and the id of its parent are derived from (client, call id) (`callParent`), and the request that
 * starts the call (the first call_inbound, or call_started of a call that has none) emits the
 * call's root span with exactly those ids (`markCallStart`).
 */
import { createHash } from 'node:crypto';
import {
  context,
  createContextKey,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  INVALID_SPAN_CONTEXT,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { parseTraceParent, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  RandomIdGenerator,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type IdGenerator,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { TracingConfig } from './config.ts';

export { SpanKind, SpanStatusCode, type Span, type SpanContext } from '@opentelemetry/api';

/** The attribute every span of a client's work carries. */
export const CLIENT_ID_ATTRIBUTE = 'xlnc.client_id';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `deferred`: the handler starts its request span itself (`Tracing.inRequestSpan`), once it
     * knows the trace to join (a Retell call's); `off`: no span (health checks, metrics scrapes).
     */
    tracing?: 'deferred' | 'off';
  }
}

const TRACER_KEY = createContextKey('xlnc.tracer');
const CLIENT_KEY = createContextKey('xlnc.client_id');
const propagator = new W3CTraceContextPropagator();

export interface UnitOfWorkOptions {
  kind?: SpanKind;
  /** The client the work is for: stamped on this span and every span under it. */
  clientId?: string | undefined;
  /** Continue this trace (a job's stored traceparent, a call's derived parent); else a new trace. */
  parent?: SpanContext | undefined;
  attributes?: Attributes;
  startTime?: TimeInput;
}

export interface HttpTracingOptions {
  /** The client a request is for, once known (the URL's, or the token's). */
  clientIdOf: (request: FastifyRequest) => string | undefined;
}

export interface Tracing {
  /** Whether spans are recorded at all (an exporter or a test processor is configured). */
  readonly enabled: boolean;
  /** Runs `fn` in the span that starts a unit of work (a job run, a schedule pass). */
  inSpan<T>(name: string, options: UnitOfWorkOptions, fn: (span: Span) => Promise<T>): Promise<T>;
  /** One SERVER span per request: route pattern, method, status and client; never the URL's query or the body. */
  instrumentHttp(app: FastifyInstance, options: HttpTracingOptions): void;
  /** For a `tracing: 'deferred'` route: starts the request's span as a child of `parent` and runs the rest of the handler in it. */
  inRequestSpan<T>(request: FastifyRequest, parent: SpanContext | undefined, fn: () => Promise<T>): Promise<T>;
  /** The parent every request about this call joins: its trace id and span id derive from (client, call). */
  callParent(clientId: string, callId: string): SpanContext;
  /** Emits the call's root span (the span `callParent` names); once per call, by the request that starts it. */
  markCallStart(clientId: string, callId: string): void;
  /** Exports what is buffered (the test's and the shutdown's flush). */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting (SIGTERM, via deps.close). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Extra span processors (tests: a SimpleSpanProcessor over an InMemorySpanExporter). Any turns tracing on. */
  spanProcessors?: readonly SpanProcessor[];
}

/** Tracing that records nothing: every method runs the work and nothing else. */
export const tracingOff: Tracing = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT)),
  instrumentHttp: () => undefined,
  inRequestSpan: (_request, _parent, fn) => fn(),
  callParent: () => INVALID_SPAN_CONTEXT,
  markCallStart: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

let contextManagerInstalled = false;

/** AsyncLocalStorage carries the active span across awaits; one manager per process, installed once. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

function rootSamplerOf(config: TracingConfig): Sampler {
  switch (config.sampler) {
    case 'always_on':
    case 'parentbased_always_on':
      return new AlwaysOnSampler();
    case 'always_off':
    case 'parentbased_always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
    case 'parentbased_traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio);
  }
}

function samplerOf(config: TracingConfig, root: Sampler): Sampler {
  return config.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** Stamps the client of the work in progress on every span started in it. */
const clientIdProcessor: SpanProcessor = {
  onStart(span, parentContext) {
    const clientId = parentContext.getValue(CLIENT_KEY);
    if (typeof clientId === 'string') span.setAttribute(CLIENT_ID_ATTRIBUTE, clientId);
  },
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/** What an error is, for a span's status: its name and code, never its message (it may carry data). */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${error.name}:${code}` : error.name;
  }
  return typeof error;
}

function failSpan(span: Span, error: unknown): void {
  const type = errorType(error);
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** Runs fn in the span and ends it; a throw marks the span failed (its type only) and is rethrown. */
async function runIn<T>(span: Span, ctx: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, fn, undefined, span);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function createTracing(config: TracingConfig, options: TracingOptions = {}): Tracing {
  const extra = options.spanProcessors ?? [];
  if (config.otlpEndpoint === undefined && extra.length === 0) return tracingOff;
  installContextManager();

  const random = new RandomIdGenerator();
  // markCallStart sets these around one synchronous startSpan, so the call's root gets its derived ids.
  let forcedIds: { traceId: string; spanId: string } | undefined;
  const idGenerator: IdGenerator = {
    generateTraceId: () => forcedIds?.traceId ?? random.generateTraceId(),
    generateSpanId: () => forcedIds?.spanId ?? random.generateSpanId(),
  };
  const rootSampler = rootSamplerOf(config);
  const exporters =
    config.otlpEndpoint === undefined ? [] : [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.otlpEndpoint}/v1/traces`, timeoutMillis: 10_000 }))];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: samplerOf(config, rootSampler),
    idGenerator,
    spanProcessors: [clientIdProcessor, ...exporters, ...extra],
  });
  const tracer = provider.getTracer('xlnc-perception');

  const unitContext = (clientId: string | undefined, parent: SpanContext | undefined): Context => {
    let ctx = ROOT_CONTEXT.setValue(TRACER_KEY, tracer);
    if (clientId !== undefined) ctx = ctx.setValue(CLIENT_KEY, clientId);
    return parent && trace.isSpanContextValid(parent) ? trace.setSpanContext(ctx, parent) : ctx;
  };

  const startUnit = (name: string, o: UnitOfWorkOptions): { span: Span; ctx: Context } => {
    const parentCtx = unitContext(o.clientId, o.parent);
    const span = tracer.startSpan(name, { kind: o.kind ?? SpanKind.INTERNAL, ...(o.attributes ? { attributes: o.attributes } : {}), ...(o.startTime !== undefined ? { startTime: o.startTime } : {}) }, parentCtx);
    return { span, ctx: trace.setSpan(parentCtx, span) };
  };

  type RequestState = { start: number; span?: Span; clientStamped?: boolean };
  const requests = new WeakMap<FastifyRequest, RequestState>();
  let clientIdOf: HttpTracingOptions['clientIdOf'] = () => undefined;

  /** Starts the request's SERVER span (once), timed from the request's arrival; returns the context to run in. */
  const beginRequest = (request: FastifyRequest, parent: SpanContext | undefined): Context => {
    const state = requests.get(request) ?? { start: performance.timeOrigin + performance.now() };
    requests.set(request, state);
    const route = request.routeOptions.url;
    const clientId = clientIdOf(request);
    const { span, ctx } = startUnit(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      clientId,
      parent,
      startTime: state.start,
      attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}), 'xlnc.request_id': request.id },
    });
    state.span = span;
    state.clientStamped = clientId !== undefined;
    return ctx;
  };

  /** An upstream caller's traceparent header, when it sent one. */
  const headerParent = (request: FastifyRequest): SpanContext | undefined => {
    const header = request.headers.traceparent;
    return typeof header === 'string' ? parseTraceparent(header) : undefined;
  };

  const callIds = (clientId: string, callId: string) => {
    const hex = createHash('sha256').update(`xlnc.call\u0000${clientId}\u0000${callId}`).digest('hex');
    return { traceId: hex.slice(0, 32), spanId: hex.slice(32, 48) };
  };

  return {
    enabled: true,

    inSpan(name, o, fn) {
      const { span, ctx } = startUnit(name, o);
      return runIn(span, ctx, fn);
    },

    instrumentHttp(app, httpOptions) {
      clientIdOf = httpOptions.clientIdOf;
      app.addHook('onRequest', async (request) => {
        if (request.routeOptions.config.tracing !== 'off') requests.set(request, { start: performance.timeOrigin + performance.now() });
      });
      app.addHook('onRoute', (route: RouteOptions) => {
        const mode = route.config?.tracing;
        if (mode === 'off' || mode === 'deferred') return;
        const handler = route.handler;
        route.handler = function tracedHandler(this: FastifyInstance, request, reply) {
          const ctx = beginRequest(request, headerParent(request));
          return context.with(ctx, () => handler.call(this, request, reply));
        };
      });
      app.addHook('onResponse', async (request, reply) => {
        const state = requests.get(request);
        if (!state) return;
        // Refused before its handler ran (unknown client, bad signature, body too large): a span of its own.
        if (!state.span) beginRequest(request, headerParent(request));
        const span = state.span!;
        if (!state.clientStamped) {
          const clientId = clientIdOf(request);
          if (clientId !== undefined) span.setAttribute(CLIENT_ID_ATTRIBUTE, clientId);
        }
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${reply.statusCode}` });
        span.end();
      });
    },

    inRequestSpan(request, parent, fn) {
      const state = requests.get(request);
      if (!state || state.span) return fn();
      return context.with(beginRequest(request, parent), fn);
    },

    callParent(clientId, callId) {
      const { traceId, spanId } = callIds(clientId, callId);
      // The decision a root span of this trace would get, so every request of a call samples alike.
      const sampled = rootSampler.shouldSample(ROOT_CONTEXT, traceId, 'retell.call', SpanKind.INTERNAL, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
      return { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
    },

    markCallStart(clientId, callId) {
      forcedIds = callIds(clientId, callId);
      let span: Span;
      try {
        span = tracer.startSpan('retell.call', { kind: SpanKind.INTERNAL, root: true, attributes: { 'retell.call_id': callId } }, unitContext(clientId, undefined));
      } finally {
        forcedIds = undefined;
      }
      span.end();
    },

    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The tracer of the unit of work in progress, if it is traced. */
function activeTracer(): Tracer | undefined {
  return context.active().getValue(TRACER_KEY) as Tracer | undefined;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  startTime?: TimeInput;
}

/** Runs fn in a child span of the active one (nothing is recorded outside a traced unit of work). */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const tracer = activeTracer();
  if (!tracer) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const parent = context.active();
  const span = tracer.startSpan(name, options, parent);
  return runIn(span, trace.setSpan(parent, span), fn);
}

/** A child span of the active one that the caller ends (a non-recording span outside a traced unit of work). */
export function startSpan(name: string, options: SpanOptions = {}): Span {
  const tracer = activeTracer();
  return tracer ? tracer.startSpan(name, options, context.active()) : trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
}

/** Marks a span failed with the error's type (never its message). */
export function recordFailure(span: Span, error: unknown): void {
  failSpan(span, error);
}

/** The active span as a W3C traceparent, to store with work that runs later (a job); undefined when untraced. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** A stored or received W3C traceparent as a remote parent; undefined when absent or malformed. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string' || value.length > 128) return undefined;
  const parsed = parseTraceParent(value);
  return parsed && trace.isSpanContextValid(parsed) ? { ...parsed, isRemote: true } : undefined;
}

/** A child span of the active one for work already done (timed by the caller, e.g. before the span it belongs to began). */
export function recordSpan(name: string, startTime: TimeInput, endTime: TimeInput, attributes?: Attributes): void {
  const tracer = activeTracer();
  if (!tracer) return;
  tracer.startSpan(name, { startTime, ...(attributes ? { attributes } : {}) }, context.active()).end(endTime);
}

/** Adds attributes to the active span (the request's, the job's), if it is recorded. */
export function setActiveAttributes(attributes: Attributes): void {
  if (activeTracer()) trace.getSpan(context.active())?.setAttributes(attributes);
}

/** Now, as an epoch time in milliseconds with sub-millisecond precision (a span's start or end). */
export function spanClock(): number {
  return performance.timeOrigin + performance.now();
}
