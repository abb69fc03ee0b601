/**
 * `npm run bench:functions` (issue 5, "Performance"): the agent's live tools under load.
 * Starts the Zoho fake in this process with BENCH_ZOHO_LATENCY_MS (100) added to every response,
 * writes two clients to a temp CLIENTS_DIR (one on the internal calendar, one on Zoho Calendar
 * pointing at the fake; open every day 00:00-24:00 with no minimum notice, so slots always exist),
 * starts bench/bench-server.ts (the real app; PostgreSQL and Redis when DATABASE_URL / REDIS_URL
 * are set, else embedded PGlite and in-memory state; job workers never started) and measures, with
 * requests signed at send time:
 *   check_availability  p50/p99 with a warm slot cache (one warm-up call first), both clients,
 *                       at a steady BENCH_RATE req/s (evenly spaced, open loop) for BENCH_SECONDS
 *   call_inbound        p50/p99 warm, both clients, the same load
 *   book_appointment    p50/p99 on the Zoho client: BENCH_BOOKINGS bookings, each a unique call id
 *                       and a distinct slot (collected first with check_availability per date and
 *                       part of day), over BENCH_BOOK_CONNECTIONS concurrent connections
 * Targets: check_availability p99 < 100 ms warm; book_appointment p99 < 400 ms with the fake's 100 ms;
 * call_inbound p99 < 300 ms warm. Every reply is also checked (slots offered, booked: true,
 * availability known); replies that are 200 but wrong are counted as `bad` and fail the target.
 * Progress goes to stderr; ONE JSON line to stdout.
 *
 * Environment: BENCH_SECONDS (10) per steady measurement, BENCH_WARMUP_SECONDS (2: unmeasured
 * traffic at the same rate first, so the server's code is JIT-warm as in production), BENCH_RATE (50),
 * BENCH_BOOKINGS (150), BENCH_BOOK_CONNECTIONS (4), BENCH_ZOHO_LATENCY_MS (100),
 * BENCH_CPU_PROF=<dir> (server --cpu-prof), BENCH_START_TIMEOUT_SECONDS (900), BENCH_TRACE_SQL=1 (the
 * server prints per-statement round-trip times on exit).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { signRetellBody } from '../src/webhooks/retell/retell-signature.ts';
import { startZohoFake } from '../test/fakes/zoho-fake.ts';
import {
  autocannon,
  installCleanupHandlers,
  intEnv,
  load,
  logger,
  MODE,
  onCleanup,
  pacedLoad,
  REDIS_URL,
  round,
  runBench,
  startBenchServer,
  trackTempDir,
  type AutocannonRequestSpec,
} from './bench-support.ts';

const SECONDS = intEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const RATE = intEnv('BENCH_RATE', 50);
const BOOKINGS = intEnv('BENCH_BOOKINGS', 150);
const BOOK_CONNECTIONS = intEnv('BENCH_BOOK_CONNECTIONS', 4);
const ZOHO_LATENCY_MS = Number(process.env.BENCH_ZOHO_LATENCY_MS ?? 100);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const SERVER_START_TIMEOUT_MS = intEnv('BENCH_START_TIMEOUT_SECONDS', 900) * 1000;

const TARGETS = { check_availability_p99_ms: 100, book_appointment_p99_ms: 400, call_inbound_p99_ms: 300 };

const log = logger('bench:functions');
installCleanupHandlers(log);

// ---------------------------------------------------------------------------------------------
// Clients

const TIMEZONE = 'America/New_York';
const CALLER = '+14155550142';
const ALL_DAY = ['00:00-24:00'];

interface BenchClient {
  id: string;
  key: string;
  agentId: string;
}

const retellKeyFor = (id: string) => `key_test_${id.replaceAll('-', '_')}_secret`;
const agentFor = (id: string) => `agent_${id.replaceAll('-', '')}`;

function clientConfig(id: string, calendar: Record<string, unknown>) {
  return {
    client_id: id,
    name: `Bench Client ${id}`,
    status: 'active',
    environment: 'test',
    industry: 'tax_preparation',
    timezone: TIMEZONE,
    business_hours: { mon: ALL_DAY, tue: ALL_DAY, wed: ALL_DAY, thu: ALL_DAY, fri: ALL_DAY, sat: ALL_DAY, sun: ALL_DAY },
    retell: { api_key: retellKeyFor(id), agent_ids: [agentFor(id)], phone_numbers: ['+14155550123'] },
    calendar: { ...calendar, min_notice_minutes: 0 },
    // The bench measures latency, not the limiter or the concurrency cap (both still run on every request).
    limits: { webhooks_per_minute: 10_000_000, max_concurrent_calls: 1_000 },
  };
}

// ---------------------------------------------------------------------------------------------
// Signed requests

const RUN_TAG = randomBytes(4).toString('hex');
let sequence = 0;
const nextCallId = (prefix: string) => `call_${prefix}_${RUN_TAG}_${sequence++}`;

function callObject(client: BenchClient, callId: string) {
  return {
    call_id: callId,
    call_type: 'phone_call',
    agent_id: client.agentId,
    call_status: 'ongoing',
    direction: 'inbound',
    from_number: CALLER,
    to_number: '+14155550123',
  };
}

interface SignedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

function signed(client: BenchClient, path: string, payload: unknown): SignedRequest {
  const body = JSON.stringify(payload);
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, client.key, Date.now()) },
    body,
  };
}

function functionRequest(client: BenchClient, name: string, args: Record<string, unknown>, callId = nextCallId('fn')): SignedRequest {
  return signed(client, `/api/webhooks/retell/${client.id}/functions/${name}`, { name, call: callObject(client, callId), args });
}

function inboundRequest(client: BenchClient): SignedRequest {
  return signed(client, `/api/webhooks/retell/${client.id}`, {
    event: 'call_inbound',
    call_inbound: { agent_id: client.agentId, agent_version: 1, from_number: CALLER, to_number: '+14155550123', call_id: nextCallId('in') },
  });
}

async function send(baseUrl: string, request: SignedRequest): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: response.status, json };
}

// ---------------------------------------------------------------------------------------------
// Reply checks: a 200 that says "no openings" or "availability unknown" is not a success.

type Check = (json: Record<string, unknown>) => boolean;

const hasSlots: Check = (json) => Array.isArray(json.slots) && json.slots.length > 0 && json.error === undefined;
const isBooked: Check = (json) => json.booked === true && json.error === undefined;
const availabilityKnown: Check = (json) => {
  const inbound = json.call_inbound as { dynamic_variables?: Record<string, string> } | undefined;
  return inbound?.dynamic_variables?.availability_known === 'true';
};

function parseJson(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Measurement {
  requests: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  non2xx: number;
  errors: number;
  /** 2xx replies that failed the reply check. */
  bad: number;
}

async function measure(
  label: string,
  baseUrl: string,
  next: () => SignedRequest,
  check: Check,
  options: { seconds?: number; amount?: number; rate?: number; connections?: number; warmupSeconds?: number },
): Promise<Measurement> {
  let bad = 0;
  let sample: string | undefined;
  const onResponse = (status: number, body: string) => {
    if (status >= 200 && status < 300 && !check(parseJson(body))) {
      bad += 1;
      sample ??= body.slice(0, 300);
    }
  };
  let measurement: Measurement;
  let codes: string;
  if (options.rate) {
    // A steady rate, open loop (see pacedLoad): not autocannon's per-second bursts.
    const source = next;
    if (options.warmupSeconds) await pacedLoad({ url: baseUrl, rate: options.rate, seconds: options.warmupSeconds, next: source });
    const seconds = options.seconds ?? SECONDS;
    const result = await pacedLoad({ url: baseUrl, rate: options.rate, seconds, next: source, onResponse });
    measurement = {
      requests: result.ok + result.non2xx,
      rps: round(result.ok / seconds, 1),
      p50_ms: round(result.p50),
      p90_ms: round(result.p90),
      p99_ms: round(result.p99),
      max_ms: round(result.max),
      non2xx: result.non2xx,
      errors: result.errors,
      bad,
    };
    codes = Object.entries(result.statusCounts)
      .map(([code, count]) => `${code}:${count}`)
      .join(' ');
  } else {
    // Closed loop: a fixed amount over a few connections, each sending when its last reply is in.
    const requests: AutocannonRequestSpec[] = [
      { method: 'POST', setupRequest: (request) => ({ ...request, ...next() }), onResponse: (status, body) => onResponse(status, body) },
    ];
    const result = await autocannon({
      url: baseUrl,
      connections: options.connections ?? 1,
      timeout: 10,
      ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? SECONDS }),
      requests,
    });
    measurement = {
      requests: result['2xx'] + result.non2xx,
      rps: round(result['2xx'] / result.duration, 1),
      p50_ms: round(result.latency.p50),
      p90_ms: round(result.latency.p90),
      p99_ms: round(result.latency.p99),
      max_ms: round(result.latency.max),
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      bad,
    };
    codes = Object.entries(result.statusCodeStats)
      .map(([code, { count }]) => `${code}:${count}`)
      .join(' ');
  }
  log(`${label}: ${JSON.stringify(measurement)} status=[${codes}] load=${load().join(',')}`);
  if (sample !== undefined) log(`${label}: first bad reply: ${sample}`);
  return measurement;
}

/** One request outside the measurement; fails the bench when the reply is not what the agent needs. */
async function warmUp(label: string, baseUrl: string, request: SignedRequest, check: Check): Promise<Record<string, unknown>> {
  const started = performance.now();
  const { status, json } = await send(baseUrl, request);
  const ms = round(performance.now() - started, 1);
  if (status !== 200 || !check(json)) throw new Error(`${label} warm-up: HTTP ${status} ${JSON.stringify(json).slice(0, 400)}`);
  log(`${label} warm-up: ${ms} ms`);
  return json;
}

const TIMES_OF_DAY = ['morning', 'afternoon', 'evening'] as const;

/**
 * Distinct bookable starts, from tomorrow on (today's may pass during the run): check_availability
 * answers at most 5 slots, so it is asked per date and part of day. Booking invalidates the slot
 * cache, so this runs before any booking.
 */
async function collectSlots(baseUrl: string, client: BenchClient, wanted: number): Promise<string[]> {
  const starts = new Set<string>();
  let day = DateTime.now().setZone(TIMEZONE).startOf('day').plus({ days: 1 });
  for (let i = 0; i < 13 && starts.size < wanted; i += 1, day = day.plus({ days: 1 })) {
    for (const timeOfDay of TIMES_OF_DAY) {
      const { status, json } = await send(baseUrl, functionRequest(client, 'check_availability', { date: day.toISODate(), time_of_day: timeOfDay }));
      if (status !== 200 || !Array.isArray(json.slots)) throw new Error(`collecting slots: HTTP ${status} ${JSON.stringify(json).slice(0, 300)}`);
      for (const slot of json.slots as { start: string }[]) starts.add(slot.start);
    }
  }
  return [...starts];
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = trackTempDir(mkdtempSync(join(tmpdir(), 'xlnc-bench-functions-')));
  if (CPU_PROF_DIR) mkdirSync(CPU_PROF_DIR, { recursive: true });
  const loadStart = load();
  log(
    `mode=${MODE} redis=${REDIS_URL ? 'yes' : 'no (in-memory)'} zoho_latency_ms=${ZOHO_LATENCY_MS} seconds=${SECONDS} ` +
      `rate=${RATE} bookings=${BOOKINGS} book_connections=${BOOK_CONNECTIONS} load=${loadStart.join(',')}`,
  );

  const zoho = await startZohoFake({ latencyMs: ZOHO_LATENCY_MS });
  onCleanup(() => void zoho.close());

  const internal: BenchClient = { id: 'bench-internal', key: retellKeyFor('bench-internal'), agentId: agentFor('bench-internal') };
  const zohoClient: BenchClient = { id: 'bench-zoho', key: retellKeyFor('bench-zoho'), agentId: agentFor('bench-zoho') };
  const oauth = { client_id: '1000.BENCHZOHO', client_secret: 'bench-zoho-client-secret', refresh_token: '1000.bench.refresh.token' };
  const calendarId = 'cal-bench-zoho';
  const userEmail = 'owner@bench-zoho.example';
  zoho.addAccount({ clientId: oauth.client_id, clientSecret: oauth.client_secret, refreshToken: oauth.refresh_token, userEmail, calendars: [calendarId] });

  const clientsDir = join(root, 'clients');
  mkdirSync(clientsDir, { recursive: true });
  writeFileSync(join(clientsDir, `${internal.id}.json`), JSON.stringify(clientConfig(internal.id, { provider: 'internal' })));
  writeFileSync(
    join(clientsDir, `${zohoClient.id}.json`),
    JSON.stringify(
      clientConfig(zohoClient.id, {
        provider: 'zoho',
        data_center: 'us',
        calendar_id: calendarId,
        oauth,
        user_email: userEmail,
        api_base_url: zoho.url,
        accounts_base_url: zoho.url,
      }),
    ),
  );

  const server = await startBenchServer({
    root,
    clientsDir,
    name: 'functions',
    log,
    startTimeoutMs: SERVER_START_TIMEOUT_MS,
    ...(CPU_PROF_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] } : {}),
  });

  const clients = [
    ['internal', internal],
    ['zoho', zohoClient],
  ] as const;
  const availability: Record<string, Measurement> = {};
  const inbound: Record<string, Measurement> = {};
  let booking: Measurement;
  let slotsCollected = 0;
  const loadDuring: Record<string, number[]> = {};
  try {
    const base = server.url;
    const steady = { seconds: SECONDS, rate: RATE, warmupSeconds: WARMUP_SECONDS };

    // 1. check_availability with a warm cache. Each run starts right after its warm-up call, well
    //    inside the slot cache's 60 s lifetime.
    for (const [label, client] of clients) {
      await warmUp(`check_availability ${label}`, base, functionRequest(client, 'check_availability', {}), hasSlots);
      availability[label] = await measure(`check_availability ${label}`, base, () => functionRequest(client, 'check_availability', {}), hasSlots, steady);
    }

    // 2. call_inbound warm (cache warmed by check_availability, then one call_inbound).
    for (const [label, client] of clients) {
      await warmUp(`call_inbound ${label} (slots)`, base, functionRequest(client, 'check_availability', {}), hasSlots);
      await warmUp(`call_inbound ${label}`, base, inboundRequest(client), availabilityKnown);
      inbound[label] = await measure(`call_inbound ${label}`, base, () => inboundRequest(client), availabilityKnown, steady);
    }
    loadDuring.after_warm_runs = load();

    // 3. book_appointment on Zoho: distinct slots, unique call ids; the first slot is the warm-up.
    const starts = await collectSlots(base, zohoClient, BOOKINGS + 1);
    slotsCollected = starts.length;
    if (starts.length < BOOKINGS + 1) log(`only ${starts.length} distinct slots for ${BOOKINGS} bookings (+1 warm-up); later requests reuse slots and are counted bad`);
    const bookArgs = (start: string) => ({ name: 'Bench Caller', start, reason: 'Bench booking' });
    await warmUp('book_appointment zoho', base, functionRequest(zohoClient, 'book_appointment', bookArgs(starts[0]!), nextCallId('bk')), isBooked);
    let slotIndex = 1;
    booking = await measure(
      'book_appointment zoho',
      base,
      () => functionRequest(zohoClient, 'book_appointment', bookArgs(starts[slotIndex++ % starts.length]!), nextCallId('bk')),
      isBooked,
      { amount: BOOKINGS, connections: Math.min(BOOK_CONNECTIONS, BOOKINGS) },
    );
  } finally {
    await server.stop();
    await zoho.close();
  }
  if (CPU_PROF_DIR) log(`CPU profile of the server written to ${CPU_PROF_DIR}`);

  const ok = (m: Measurement, target: number) => m.p99_ms < target && m.non2xx === 0 && m.errors === 0 && m.bad === 0;
  const allOk = (ms: Record<string, Measurement>, target: number) => Object.values(ms).every((m) => ok(m, target));
  const report = {
    bench: 'functions',
    mode: MODE,
    redis: Boolean(REDIS_URL),
    workers_in_process: false,
    zoho_latency_ms: ZOHO_LATENCY_MS,
    seconds: SECONDS,
    warmup_seconds: WARMUP_SECONDS,
    rate: RATE,
    bookings: BOOKINGS,
    book_connections: BOOK_CONNECTIONS,
    slots_collected: slotsCollected,
    load_avg: { start: loadStart, ...loadDuring, end: load() },
    check_availability: availability,
    call_inbound: inbound,
    book_appointment: { zoho: booking },
    targets: {
      check_availability_p99_under_100ms: allOk(availability, TARGETS.check_availability_p99_ms),
      book_appointment_p99_under_400ms: ok(booking, TARGETS.book_appointment_p99_ms),
      call_inbound_p99_under_300ms: allOk(inbound, TARGETS.call_inbound_p99_ms),
    },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

runBench(main, log);
