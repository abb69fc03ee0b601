/**
 * Issue 11 acceptance: a property test over every operation in the OpenAPI document. Fixed seeds,
 * a request count and a time budget: hostile path parameters, queries, bodies and headers, with
 * and without valid tokens of each role. Never a 5xx, every error in the one envelope, HEAD
 * without a body, and the server still answers /health afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginAs } from '../test/helpers/auth.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../test/helpers/test-app.ts';

/** Requests per seed, sent PARALLEL at a time; the time budget stops a slow machine early. */
const SEEDS = [11, 1101, 110_011] as const;
const RUNS_PER_SEED = 1_200;
const PARALLEL = 8;
const BUDGET_MS = 8_000;

type Operation = { method: string; path: string; pathParams: string[]; queryParams: string[]; bodyKeys: string[]; hasBody: boolean };

type OpenApiDocument = {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>>;
};

function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      const parameters = spec.parameters ?? [];
      const content = spec.requestBody?.content ?? {};
      const schema = Object.values(content)[0]?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyKeys: Object.keys(schema?.properties ?? {}),
        hasBody: spec.requestBody !== undefined || ['POST', 'PATCH', 'PUT'].includes(method.toUpperCase()),
      });
    }
  }
  return operations;
}

const HOSTILE_TEXT = [
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '__proto__',
  'constructor',
  'prototype',
  '../../admin',
  '..%2f..%2fadmin',
  '\u202Eevil',
  '',
  ' ',
  'null',
  'undefined',
  '-1',
  '0',
  '1e999',
  '9'.repeat(40),
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '%',
  '%00',
  '%E0%A4%A',
  'x'.repeat(101),
  'y'.repeat(20_000),
  '2026-13-45T99:99:99Z',
  'enc:v1:k:iv:tag:ct',
  '••••1234',
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.uuid() },
);

/** Any JSON-ish value, hostile strings as keys and values, and sometimes absurdly deep. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 400 }).map((depth) => deep(depth)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, -1, 1e308, [], {}, [[[]]]) },
);

function deep(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

/** Percent-encodes what encodeURIComponent can, and writes a lone surrogate as its WTF-8 bytes. */
function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...text].map((ch) => (ch.isWellFormed() ? encodeURIComponent(ch) : '%ED%A0%80')).join('');
  }
}

describe('every OpenAPI operation under hostile input (issue 11)', () => {
  let t: TestApp;
  const id = uniqueId('fuzz');
  let operations: Operation[] = [];
  let tokens: string[] = [];

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(id, { limits: { webhooks_per_minute: 1_000_000, client_api_per_minute: 1_000_000 } }));
    t = await createTestApp({ clientsDir: dir });
    operations = operationsOf(t.app.swagger() as unknown as OpenApiDocument);
    tokens = await Promise.all([loginAs(t, 'platform_admin'), loginAs(t, 'client_admin', id), loginAs(t, 'client_viewer', id)]).then((users) =>
      users.map((user) => user.accessToken),
    );
  });
  afterAll(() => t.close());

  it('covers the whole document', () => {
    const paths = new Set(operations.map((op) => op.path));
    expect(operations.length).toBeGreaterThanOrEqual(15);
    for (const path of ['/api/auth/login', '/api/admin/clients/{id}', '/api/clients/{clientId}/calls/{callId}', '/api/webhooks/retell/{clientId}']) {
      expect(paths.has(path), path).toBe(true);
    }
  });

  it(`${SEEDS.length} seeds x ${RUNS_PER_SEED} x ${PARALLEL} requests: no 5xx, every error in the envelope, HEAD without a body, /health still 200`, async () => {
    const request = fc.record({
      operation: fc.nat(),
      head: fc.boolean(),
      params: fc.array(fc.oneof({ weight: 2, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constant(id) }, { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%00', 'a%2Fb') }), {
        minLength: 3,
        maxLength: 3,
      }),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom('q', 'limit', 'cursor', 'from', 'to', 'status', 'period', 'tz', '__proto__', 'constructor[prototype]'), hostileString), hostileString), { maxLength: 4 }),
      body: fc.oneof(
        { weight: 3, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('email', 'password', 'refresh_token', 'role', 'client_id', 'event', 'call', 'config', '__proto__'), hostileString), hostileValue, { maxKeys: 5 }) },
        { weight: 2, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.constantFrom('{"email":', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '[1,2', '\u0000', '{"a":"\\ud800"}') },
      ),
      rawBody: fc.boolean(),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'garbage', null),
      auth: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4), fc.constant(-1)),
      headerJunk: fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
    });

    let sent = 0;
    const statuses = new Map<number, number>();
    const exercised = new Set<string>();
    for (const seed of SEEDS) {
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
          await Promise.all(
            batch.map(async (input) => {
              const op = operations[input.operation % operations.length]!;
              const method = input.head && op.method === 'GET' ? 'HEAD' : op.method;
              let index = 0;
              const path = op.path.replace(/\{[^}]+\}/g, () => {
                const value = input.params[index++ % input.params.length]!;
                return /^%|%[0-9A-F]{2}$/i.test(value) && value.length < 12 ? value : encodeSegment(value);
              });
              const query = input.query.map(([key, value]) => `${encodeSegment(key)}=${encodeSegment(value)}`).join('&');
              const headers: Record<string, string> = { 'x-request-id': input.headerJunk, 'if-match': input.headerJunk };
              if (input.auth >= 0 && input.auth < tokens.length) Object.assign(headers, bearer(tokens[input.auth]!));
              else if (input.auth === 3) headers.authorization = `Bearer ${input.headerJunk}`;
              else if (input.auth === 4) headers.authorization = input.headerJunk;
              if (input.contentType !== null && op.hasBody) headers['content-type'] = input.contentType;
              const payload = !op.hasBody || method === 'HEAD' ? undefined : input.rawBody && typeof input.body === 'string' ? input.body : JSON.stringify(input.body ?? null);
              const res = await t.app.inject({ method: method as 'GET', url: query ? `${path}?${query}` : path, headers, ...(payload !== undefined ? { payload } : {}) });
              sent++;
              exercised.add(`${op.method} ${op.path}`);
              statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
              const what = `${method} ${path.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
              expect(res.statusCode, what).toBeLessThan(500);
              if (method === 'HEAD') {
                expect(res.body, what).toBe('');
              } else if (res.statusCode >= 400) {
                const body = JSON.parse(res.body) as { error?: Record<string, unknown> };
                expect(Object.keys(body), what).toEqual(['error']);
                expect(body.error, what).toEqual({ code: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
              }
            }),
          );
        }),
        { seed, numRuns: RUNS_PER_SEED, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, endOnFailure: true },
      );
      // The budget is per seed; each seed still gets a meaningful share on a slow machine.
      expect(Date.now() - started).toBeLessThan(BUDGET_MS + 5_000);
    }
    console.log(`fuzz: ${sent} requests over ${exercised.size}/${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(sent).toBeGreaterThanOrEqual(1_000);
    expect(exercised.size).toBe(operations.length);
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  }, 120_000);
});
