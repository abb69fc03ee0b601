/**
 * Issue 17, tracing: a booked call (call_inbound, the agent's function calls, the lifecycle events,
 * the post-call jobs and the messages they send) is one connected trace, every span carries the
 * client id, and no span says anything secret or personal. Then the OTLP export itself: spans
 * reach a collector over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and nothing is traced
 * without it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postCallFallback } from '../../src/calls/post-call.job.ts';
import { startWorkers } from '../../src/core/dispatch.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { sqlRows } from '../../src/platform/db/database.ts';
import { CLIENT_ID_ATTRIBUTE } from '../../src/platform/tracing.ts';
import { DEFAULT_CALLER_NUMBER, simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { startSendgridFake, type SendgridFake } from '../fakes/sendgrid-fake.ts';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.ts';
import { startZohoFake, type ZohoFake } from '../fakes/zoho-fake.ts';
import { injectFetch, until } from '../helpers/inject-fetch.ts';
import { agentFor, callEvent, postSigned } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { dropSchema } from '../helpers/test-db.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const WEBHOOK_ROUTE = 'POST /api/webhooks/retell/:clientId';
const FUNCTION_ROUTE = 'POST /api/webhooks/retell/:clientId/functions/:name';

const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const attr = (s: ReadableSpan, key: string) => s.attributes[key];

describe('tracing: one connected trace for a booked call', () => {
  let t: TestApp;
  let zoho: ZohoFake;
  let twilio: TwilioFake;
  let sendgrid: SendgridFake;
  const exporter = new InMemorySpanExporter();
  const client = uniqueId('trace');
  const other = uniqueId('trace-other');
  const callId = `call_trace_${uniqueId('x').slice(2)}`;
  const twilioSid = `AC${'2'.repeat(32)}`;
  const secrets = {
    TR_TWILIO_TOKEN: 'twilio-token-trace-7f3a91',
    TR_SENDGRID_KEY: 'SG.sendgrid-key-trace-7f3a91',
    TR_ZOHO_SECRET: 'zoho-secret-trace-7f3a91',
    TR_ZOHO_REFRESH: '1000.refresh.trace-7f3a91',
    TR_RETELL: 'key_live_trace_7f3a91',
    TR_RETELL_OTHER: 'key_live_trace_other_7f3a91',
  };
  const queueSchema = `pgboss_${uniqueId('tr').replaceAll('-', '_')}`;
  let callSpans: ReadableSpan[] = [];
  let allSpans: ReadableSpan[] = [];

  const pendingJobs = async (clientId: string) =>
    (
      await sqlRows<{ n: number }>(
        t.deps.database.db,
        sql`select count(*)::int as n from ${sql.identifier(queueSchema)}.job where group_id = ${clientId} and state in ('created', 'retry', 'active') and name <> ${postCallFallback.name}`,
      )
    )[0]?.n ?? 0;
  const sentMessages = async (clientId: string) =>
    (await sqlRows<{ n: number }>(t.deps.database.db, sql`select count(*)::int as n from messages where client_id = ${clientId} and status = 'sent'`))[0]?.n ?? 0;

  beforeAll(async () => {
    zoho = await startZohoFake();
    twilio = await startTwilioFake({ accounts: { [twilioSid]: secrets.TR_TWILIO_TOKEN } });
    sendgrid = await startSendgridFake({ apiKeys: [secrets.TR_SENDGRID_KEY] });
    zoho.addAccount({ clientId: '1000.trace', clientSecret: secrets.TR_ZOHO_SECRET, refreshToken: secrets.TR_ZOHO_REFRESH, userEmail: 'owner@trace.example', calendars: ['cal-trace'] });
    const dir = tempDir('clients-');
    writeClientFile(dir, {
      ...testClientConfig(client),
      environment: 'live',
      business_hours: ALWAYS_OPEN,
      retell: { api_key: 'env:TR_RETELL', agent_ids: [agentFor(client)] },
      calendar: { provider: 'zoho', data_center: 'us', calendar_id: 'cal-trace', user_email: 'owner@trace.example', oauth: { client_id: '1000.trace', client_secret: 'env:TR_ZOHO_SECRET', refresh_token: 'env:TR_ZOHO_REFRESH' }, api_base_url: zoho.url, accounts_base_url: zoho.url, min_notice_minutes: 0 },
      sms: { enabled: true, provider: 'twilio', account_sid: twilioSid, auth_token: 'env:TR_TWILIO_TOKEN', from_number: '+15005550006', api_base_url: twilio.url, quiet_hours: { start: '00:00', end: '00:00' } },
      email: { enabled: true, provider: 'sendgrid', api_key: 'env:TR_SENDGRID_KEY', from: 'Trace <hello@trace.example>', api_base_url: sendgrid.url },
      notifications: { business_email: 'office@trace.example' },
    });
    writeClientFile(dir, { ...testClientConfig(other), environment: 'live', retell: { api_key: 'env:TR_RETELL_OTHER', agent_ids: [agentFor(other)] } });
    t = await createTestApp({ clientsDir: dir, env: secrets, queueSchema, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    await startWorkers(t.deps, JOB_CATALOGUE, { concurrency: 4, perClientConcurrency: 2, pollingIntervalSeconds: 0.5 });

    // Another client's call at the same time: its spans must stay out of this call's trace.
    const otherSteps = simulateCall({ baseUrl: 'http://app', clientId: other, apiKey: secrets.TR_RETELL_OTHER, agentId: agentFor(other), scenario: 'message', fetch: injectFetch(t, 1) });
    const steps = await simulateCall({ baseUrl: 'http://app', clientId: client, apiKey: secrets.TR_RETELL, agentId: agentFor(client), scenario: 'booked', callId, fetch: injectFetch(t, 1) });
    await otherSteps;
    expect(steps.filter((s) => s.status >= 400)).toEqual([]);
    expect(steps.find((s) => s.label === 'function book_appointment')?.body).toMatchObject({ booked: true });
    await until(async () => (await pendingJobs(client)) === 0 && (await sentMessages(client)) >= 2, 60_000, 'the confirmation SMS and the summary email');
    await t.deps.tracing.forceFlush();
    allSpans = exporter.getFinishedSpans();
    const traceId = t.deps.tracing.callParent(client, callId).traceId;
    callSpans = allSpans.filter((s) => s.spanContext().traceId === traceId);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await dropSchema(queueSchema);
    await Promise.all([zoho?.close(), twilio?.close(), sendgrid?.close()]);
  });

  it('has one root, the call, and every other span hangs from it through parents that are in the trace', () => {
    const root = t.deps.tracing.callParent(client, callId);
    const roots = callSpans.filter((s) => s.parentSpanContext === undefined);
    expect(roots.map((s) => s.name)).toEqual(['retell.call']);
    expect(spanId(roots[0]!)).toBe(root.spanId);
    const byId = new Map(callSpans.map((s) => [spanId(s), s]));
    expect(byId.size).toBe(callSpans.length);
    const children = new Map<string, ReadableSpan[]>();
    for (const span of callSpans) {
      const parent = span.parentSpanContext?.spanId;
      if (parent === undefined) continue;
      expect(byId.has(parent), `${span.name}'s parent is in the trace`).toBe(true);
      children.set(parent, [...(children.get(parent) ?? []), span]);
    }
    // A walk down from the root reaches every span of the trace: one tree.
    const reached = new Set<string>();
    const queue = [root.spanId];
    while (queue.length > 0) {
      const id = queue.shift()!;
      reached.add(id);
      for (const child of children.get(id) ?? []) queue.push(spanId(child));
    }
    expect(reached.size).toBe(callSpans.length);
  });

  it('holds every step of the call: each Retell request, the functions, the jobs and the provider calls', () => {
    const names = callSpans.map((s) => s.name);
    // call_inbound, call_started, call_analyzed, call_ended twice (the simulator's duplicate).
    expect(names.filter((n) => n === WEBHOOK_ROUTE)).toHaveLength(5);
    expect(callSpans.filter((s) => s.name === FUNCTION_ROUTE).map((s) => attr(s, 'xlnc.function.name')).sort()).toEqual(['book_appointment', 'check_availability']);
    expect(names).toEqual(expect.arrayContaining(['function check_availability', 'function book_appointment', 'retell.ingest', 'retell.verify_signature']));
    const jobs = callSpans.filter((s) => s.name.startsWith('job '));
    expect(jobs.map((s) => s.name)).toEqual(expect.arrayContaining(['job event.post-call', 'job event.call-started', 'job message.send']));
    const providers = callSpans.filter((s) => attr(s, 'xlnc.provider') !== undefined);
    const calls = providers.map((s) => `${String(attr(s, 'xlnc.provider'))} ${String(attr(s, 'xlnc.provider.operation'))}`);
    expect(calls).toEqual(expect.arrayContaining(['zoho_calendar event_create', 'twilio send_sms', 'sendgrid send_email']));
    for (const span of providers) {
      expect(span.kind).toBe(2); // CLIENT
      expect(span.duration[0] * 1e9 + span.duration[1]).toBeGreaterThan(0);
    }
    expect(providers.find((s) => attr(s, 'xlnc.provider') === 'twilio')).toMatchObject({ attributes: expect.objectContaining({ 'xlnc.provider.outcome': 'ok' }) });
    const statuses = callSpans.filter((s) => s.name === WEBHOOK_ROUTE).map((s) => attr(s, 'http.response.status_code'));
    expect(statuses.sort()).toEqual([200, 204, 204, 204, 204]);
  });

  it('each message goes back to what caused it: the SMS to the booking function, the summary email to the post-call job of a lifecycle webhook', () => {
    const byId = new Map(callSpans.map((s) => [spanId(s), s]));
    const chainOf = (span: ReadableSpan | undefined): ReadableSpan[] => {
      const chain: ReadableSpan[] = [];
      for (let at = span; at; at = at.parentSpanContext ? byId.get(at.parentSpanContext.spanId) : undefined) chain.push(at);
      return chain;
    };
    const ancestry = (span: ReadableSpan | undefined) => chainOf(span).map((s) => s.name);
    const provider = (name: string) => callSpans.find((s) => attr(s, 'xlnc.provider') === name);
    expect(ancestry(provider('twilio'))).toEqual(['twilio send_sms', 'job message.send', 'enqueue message.send', 'function book_appointment', FUNCTION_ROUTE, 'retell.call']);
    expect(ancestry(provider('sendgrid'))).toEqual(['sendgrid send_email', 'job message.send', 'enqueue message.send', 'job event.post-call', 'enqueue event.post-call', 'retell.ingest', WEBHOOK_ROUTE, 'retell.call']);
    const booking = callSpans.find((s) => attr(s, 'xlnc.provider.operation') === 'event_create');
    expect(ancestry(booking)).toEqual(['zoho_calendar event_create', 'function book_appointment', FUNCTION_ROUTE, 'retell.call']);
    // The email's webhook is call_analyzed or call_ended (whichever stored first started the post-call job).
    const webhook = chainOf(provider('sendgrid')).find((s) => s.name === WEBHOOK_ROUTE);
    expect(['call_analyzed', 'call_ended']).toContain(webhook?.attributes['retell.event']);
  });

  it('every span carries the client id, and no span of this client is in another client\'s trace', () => {
    expect(callSpans.length).toBeGreaterThan(20);
    for (const span of callSpans) expect(attr(span, CLIENT_ID_ATTRIBUTE), span.name).toBe(client);
    const otherSpans = allSpans.filter((s) => attr(s, CLIENT_ID_ATTRIBUTE) === other);
    expect(otherSpans.length).toBeGreaterThan(5);
    const traceIds = new Set(callSpans.map((s) => s.spanContext().traceId));
    expect(otherSpans.filter((s) => traceIds.has(s.spanContext().traceId))).toEqual([]);
  });

  it('no span says a secret, the transcript, the caller\'s number, a name or an email address', () => {
    expect(callSpans.length).toBeGreaterThan(20);
    const texts: string[] = [];
    for (const span of allSpans) {
      texts.push(span.name, span.status.message ?? '');
      for (const value of Object.values(span.attributes)) texts.push(String(value));
      for (const event of span.events) texts.push(event.name, ...Object.values(event.attributes ?? {}).map(String));
      for (const link of span.links) texts.push(...Object.values(link.attributes ?? {}).map(String));
      for (const value of Object.values(span.resource.attributes)) texts.push(String(value));
    }
    const all = texts.join('\n');
    const forbidden = [
      ...Object.values(secrets),
      DEFAULT_CALLER_NUMBER,
      DEFAULT_CALLER_NUMBER.slice(2), // 4155550142 without +1
      '+15005550006',
      'Jane Roe',
      'Consultation',
      'book an appointment',
      'That works',
      'Thanks for calling',
      'call me back',
      'office@trace.example',
      'owner@trace.example',
      'hello@trace.example',
    ];
    for (const value of forbidden) expect(all.includes(value), `"${value}" in a span`).toBe(false);
    expect(all).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
    expect(all).not.toMatch(/\bBasic |\bBearer |Zoho-oauthtoken/);
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function startCollector(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe('tracing: OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing without it', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await new Promise((resolve) => collector.server.close(resolve));
  });

  const jobData = async (t: TestApp, clientId: string) =>
    sqlRows<{ data: Record<string, unknown> }>(t.deps.database.db, sql`select data from pgboss.job where group_id = ${clientId} and name = 'event.call-started'`);

  it('set: the request, its storage and its job reach the collector as OTLP/HTTP JSON at /v1/traces', async () => {
    const id = uniqueId('otlp');
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id));
    const t = await createTestApp({ clientsDir: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`, OTEL_SERVICE_NAME: 'xlnc-otlp-test' } });
    try {
      expect(t.deps.tracing.enabled).toBe(true);
      const res = await postSigned(t.app, id, callEvent(id, 'call_started', 'call_otlp_1', { direction: 'outbound' }));
      expect(res.statusCode).toBe(204);
      const [job] = await jobData(t, id);
      expect(String(job?.data.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      await t.deps.tracing.forceFlush();
      const posts = collector.received.filter((r) => r.method === 'POST' && r.url === '/v1/traces');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts[0]?.headers['content-type']).toMatch(/application\/json/);
      type OtlpSpan = { name: string; traceId: string; attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[] };
      const batches = posts.map((p) => JSON.parse(p.body) as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] });
      const resource = batches[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name');
      expect(resource?.value.stringValue).toBe('xlnc-otlp-test');
      const spans = batches.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
      const server = spans.find((s) => s.name === WEBHOOK_ROUTE);
      expect(server?.attributes.find((a) => a.key === CLIENT_ID_ATTRIBUTE)?.value.stringValue).toBe(id);
      expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['retell.ingest', 'enqueue event.call-started', 'retell.call']));
      // Hex in OTLP/JSON; the call's trace.
      expect(server?.traceId).toBe(t.deps.tracing.callParent(id, 'call_otlp_1').traceId);
    } finally {
      await t.close();
    }
  });

  it('unset: no tracer, no span, no traceparent stored with jobs, nothing sent', async () => {
    const before = collector.received.length;
    const id = uniqueId('nootlp');
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id));
    const t = await createTestApp({ clientsDir: dir });
    try {
      expect(t.deps.tracing.enabled).toBe(false);
      const res = await postSigned(t.app, id, callEvent(id, 'call_started', 'call_nootlp_1'), { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
      expect(res.statusCode).toBe(204);
      const [job] = await jobData(t, id);
      expect(job?.data).toBeDefined();
      expect(job?.data).not.toHaveProperty('traceparent');
      await t.deps.tracing.forceFlush();
      expect(collector.received.length).toBe(before);
    } finally {
      await t.close();
    }
  });
});
