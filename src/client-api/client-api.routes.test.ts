import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../test/helpers/auth.ts';
import { sqlRows } from '../platform/db/database.ts';
import { appointments, calls, functionCalls, messages } from '../platform/db/schema.ts';
import { callEvent, postSigned, retellKeyFor } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';
import { createClientApiService } from './client-api.service.ts';

type CallInsert = Omit<typeof calls.$inferInsert, 'clientId'>;

/** RFC 4180 parser for the assertions (quoted fields, doubled quotes, CRLF inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('client API routes', () => {
  let t: TestApp;
  let bearer: string;
  const main = uniqueId('capi-main');
  const paged = uniqueId('capi-page');
  const bulk = uniqueId('capi-csv');
  const secrets = uniqueId('capi-sec');
  const TWILIO_TOKEN = 'tw_auth_token_0123456789_secret';
  const SENDGRID_KEY = 'SG.sendgrid_key_0123456789_secret';
  const HTTP_FN_SECRET = 'whsec_function_secret_0123456789';

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });
  const insertCalls = (clientId: string, rows: CallInsert[]) =>
    t.deps.tenancy.withTenant(clientId, (tx) => tx.insert(calls).values(rows.map((row) => ({ ...row, clientId }))));

  beforeAll(async () => {
    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(main));
    writeClientFile(dir, testClientConfig(paged));
    writeClientFile(dir, testClientConfig(bulk));
    writeClientFile(
      dir,
      testClientConfig(secrets, {
        sms: {
          provider: 'twilio',
          enabled: true,
          account_sid: `AC${'0'.repeat(32)}`,
          auth_token: TWILIO_TOKEN,
          from_number: '+14155550100',
        },
        email: { provider: 'sendgrid', enabled: true, api_key: SENDGRID_KEY, from: 'Front Desk <desk@example.com>' },
        functions: [
          {
            kind: 'http',
            name: 'order_status',
            description: 'Looks up an order',
            url: 'https://hooks.example.com/status',
            secret: HTTP_FN_SECRET,
          },
        ],
      }),
    );
    t = await createTestApp({ clientsDir: dir });
    bearer = (await loginAs(t, 'platform_admin')).accessToken;
  });
  afterAll(() => t.close());

  describe('calls seeded through the Retell webhook', () => {
    beforeAll(async () => {
      const analysis = { call_summary: 'Booked a cleaning for Tuesday', user_sentiment: 'Positive', call_successful: true };
      const transcript = 'Agent: Hello\nUser: I need a cleaning';
      for (const [event, extra] of [
        ['call_started', {}],
        ['call_ended', { transcript }],
        ['call_analyzed', { transcript, call_analysis: analysis }],
      ] as const) {
        expect((await postSigned(t.app, main, callEvent(main, event, 'call_hook_1', extra))).statusCode).toBe(204);
      }
      await t.deps.tenancy.withTenant(main, async (tx) => {
        await tx.insert(appointments).values({
          clientId: main,
          callId: 'call_hook_1',
          startsAt: new Date('2026-12-01T15:00:00Z'),
          endsAt: new Date('2026-12-01T15:30:00Z'),
          status: 'booked',
          provider: 'internal',
          customerName: 'Jane Roe',
          customerPhone: '+14155550142',
          idempotencyKey: 'call_hook_1:2026-12-01T15:00',
        });
        await tx.insert(messages).values({
          clientId: main,
          callId: 'call_hook_1',
          channel: 'sms',
          kind: 'confirmation',
          idempotencyKey: 'call_hook_1:confirmation',
          provider: 'twilio',
          toAddress: '+14155550142',
          body: 'See you Tuesday',
          status: 'delivered',
        });
        await tx.insert(functionCalls).values({
          clientId: main,
          callId: 'call_hook_1',
          name: 'book_appointment',
          args: { name: 'Jane Roe' },
          outcome: 'ok',
          latencyMs: 120,
        });
      });
    });

    it('lists the call with its derived outcome and analysis columns', async () => {
      const res = await get(`/api/clients/${main}/calls`);
      expect(res.statusCode).toBe(200);
      const [call] = res.json().data;
      expect(call).toMatchObject({
        call_id: 'call_hook_1',
        direction: 'inbound',
        from_number: '+14155550142',
        duration_ms: 95_000,
        sentiment: 'Positive',
        summary: 'Booked a cleaning for Tuesday',
        outcome: 'booked',
        started_at: new Date(1_795_000_000_000).toISOString(),
      });
      expect(res.json().next_cursor).toBeNull();
    });

    it('GET /calls/:callId has the transcript, analysis, events, function calls, messages and appointment', async () => {
      const res = await get(`/api/clients/${main}/calls/call_hook_1`);
      expect(res.statusCode).toBe(200);
      const call = res.json();
      expect(call.transcript).toContain('I need a cleaning');
      expect(call.analysis).toMatchObject({ user_sentiment: 'Positive', call_successful: true });
      expect(call.events.map((e: { event: string }) => e.event)).toEqual(['call_started', 'call_ended', 'call_analyzed']);
      expect(call.function_calls).toEqual([expect.objectContaining({ name: 'book_appointment', outcome: 'ok', latency_ms: 120 })]);
      expect(call.messages).toEqual([expect.objectContaining({ channel: 'sms', kind: 'confirmation', status: 'delivered' })]);
      expect(call.appointment).toMatchObject({ status: 'booked', starts_at: '2026-12-01T15:00:00.000Z', customer_name: 'Jane Roe' });
    });

    it('lists appointments and messages with filters', async () => {
      const booked = await get(`/api/clients/${main}/appointments?status=booked&from=2026-12-01&to=2026-12-01`);
      expect(booked.json().data).toHaveLength(1);
      expect((await get(`/api/clients/${main}/appointments?status=cancelled`)).json().data).toHaveLength(0);
      expect((await get(`/api/clients/${main}/appointments?from=2026-12-02`)).json().data).toHaveLength(0);
      const sms = await get(`/api/clients/${main}/messages?channel=sms&status=delivered`);
      expect(sms.json().data).toEqual([expect.objectContaining({ body: 'See you Tuesday', to_address: '+14155550142' })]);
      expect((await get(`/api/clients/${main}/messages?channel=email`)).json().data).toHaveLength(0);
      expect((await get(`/api/clients/${main}/messages?status=failed`)).json().data).toHaveLength(0);
    });
  });

  describe('pagination', () => {
    const base = Date.parse('2026-03-01T12:00:00Z');
    const total = 250;

    beforeAll(async () => {
      // Three calls share each start time (ties are broken by call id), every 10th has no
      // start time (sorted by when it was stored), and timestamps carry microseconds.
      await insertCalls(
        paged,
        Array.from({ length: total }, (_, i) => ({
          callId: `call_${String(i).padStart(3, '0')}`,
          startedAt: i % 10 === 0 ? null : new Date(base + Math.floor(i / 3) * 60_000),
          createdAt: new Date(base + 500 * 60_000),
          direction: 'inbound',
        })),
      );
      await t.deps.tenancy.withTenant(paged, (tx) =>
        tx.execute(sql`update calls set started_at = started_at + interval '0.000417 seconds' where client_id = ${paged} and call_id like 'call_1%'`),
      );
    });

    async function readAll(pageSize: number, between?: (page: number) => Promise<void>): Promise<string[]> {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res = await get(`/api/clients/${paged}/calls?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.statusCode).toBe(200);
        const body = res.json();
        expect(body.data.length).toBeLessThanOrEqual(pageSize);
        seen.push(...body.data.map((c: { call_id: string }) => c.call_id));
        cursor = body.next_cursor;
        if (!cursor) return seen;
        await between?.(page);
      }
      throw new Error('pagination did not end');
    }

    it('visits every call exactly once, newest first, with ties broken by call id', async () => {
      const ids = await readAll(37);
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      const expected = await t.deps.tenancy.withTenant(paged, (tx) =>
        sqlRows<{ call_id: string }>(tx, sql`select call_id from calls where client_id = ${paged} order by coalesce(started_at, created_at) desc, call_id desc`),
      );
      expect(ids).toEqual(expected.map((r) => r.call_id));
    });

    it('is stable while new calls arrive between pages', async () => {
      const ids = await readAll(50, async (page) => {
        await insertCalls(paged, [{ callId: `late_${page}`, startedAt: new Date(base + 10_000 * 60_000) }]);
      });
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
    });

    it('limit is capped at 200 and a foreign or forged cursor is a 400', async () => {
      expect((await get(`/api/clients/${paged}/calls?limit=201`)).json().error.code).toBe('invalid_payload');
      expect((await get(`/api/clients/${paged}/calls?limit=200`)).json().data).toHaveLength(200);
      const forged = Buffer.from(JSON.stringify(['messages', '2026-01-01T00:00:00.000000Z', 'x'])).toString('base64url');
      expect((await get(`/api/clients/${paged}/calls?cursor=${forged}`)).statusCode).toBe(400);
      expect((await get(`/api/clients/${paged}/calls?cursor=not-a-cursor`)).statusCode).toBe(400);
      const impossible = Buffer.from(JSON.stringify(['calls', '2026-02-30T00:00:00.000000Z', 'x'])).toString('base64url');
      expect((await get(`/api/clients/${paged}/calls?cursor=${impossible}`)).statusCode).toBe(400);
    });
  });

  describe('filters', () => {
    const at = (iso: string) => new Date(iso);
    beforeAll(async () => {
      await insertCalls(main, [
        { callId: 'f_message', startedAt: at('2026-05-04T14:00:00Z'), durationMs: 60_000, disconnectionReason: 'user_hangup', sentiment: 'Neutral', summary: 'Left a message: 100% urgent' },
        { callId: 'f_fn_message', startedAt: at('2026-05-04T15:00:00Z'), durationMs: 60_000, disconnectionReason: 'agent_hangup', summary: 'Wants a call_back' },
        { callId: 'f_voicemail', startedAt: at('2026-05-05T03:30:00Z'), direction: 'outbound', fromNumber: '+12125550100', toNumber: '+13105550123', disconnectionReason: 'voicemail_reached', durationMs: 20_000 },
        { callId: 'f_vm_analysis', startedAt: at('2026-05-05T05:00:00Z'), direction: 'outbound', analysis: { in_voicemail: true }, durationMs: 15_000 },
        { callId: 'f_no_answer', startedAt: at('2026-05-06T16:00:00Z'), direction: 'outbound', disconnectionReason: 'dial_no_answer', durationMs: 0 },
        { callId: 'f_other', startedAt: at('2026-05-06T17:00:00Z'), fromNumber: '+12125550199', agentId: 'agent_other', sentiment: 'Negative', summary: 'Asked about prices' },
      ]);
      await t.deps.tenancy.withTenant(main, async (tx) => {
        await tx.insert(messages).values({
          clientId: main,
          callId: 'f_message',
          channel: 'email',
          kind: 'message_taken',
          idempotencyKey: 'f_message:taken',
          provider: 'sendgrid',
          toAddress: 'desk@example.com',
          body: 'Call back Jane',
          status: 'sent',
        });
        await tx.insert(functionCalls).values({ clientId: main, callId: 'f_fn_message', name: 'take_message', outcome: 'ok', latencyMs: 40 });
      });
    });

    const ids = async (query: string) =>
      (await get(`/api/clients/${main}/calls?${query}`)).json().data.map((c: { call_id: string }) => c.call_id).sort();

    it.each([
      ['outcome=booked', ['call_hook_1']],
      ['outcome=message', ['f_fn_message', 'f_message']],
      ['outcome=voicemail', ['f_vm_analysis', 'f_voicemail']],
      ['outcome=no_answer', ['f_no_answer']],
      ['outcome=other', ['f_other']],
      ['sentiment=negative', ['f_other']],
      ['sentiment=positive', ['call_hook_1']],
      ['direction=outbound', ['f_no_answer', 'f_vm_analysis', 'f_voicemail']],
      ['agent=agent_other', ['f_other']],
      ['q=212555', ['f_other']],
      // Outbound: the customer is the number called, not the business line it was called from.
      ['q=310555', ['f_voicemail']],
      ['q=2125550100', []],
      ['q=(212) 555-01', ['f_other']],
      ['q=PRICES', ['f_other']],
      ['q=100%25', ['f_message']],
      ['q=%25', ['f_message']],
      ['q=call_', ['f_fn_message']],
      ['q=_', ['f_fn_message']],
      // Dates are days in the client's timezone (America/New_York, UTC-4 in May).
      ['from=2026-05-05&to=2026-05-05', ['f_vm_analysis']],
      ['from=2026-05-04&to=2026-05-04', ['f_message', 'f_fn_message', 'f_voicemail'].sort()],
      ['from=2026-05-06T16:00:00Z&to=2026-05-06T17:00:00Z', ['f_no_answer']],
      ['outcome=voicemail&direction=outbound&from=2026-05-05', ['f_vm_analysis']],
    ])('%s', async (query, expected) => {
      expect(await ids(query)).toEqual(expected);
    });

    it('rejects bad filters with the 400 envelope naming the field', async () => {
      const bad = await get(`/api/clients/${main}/calls?outcome=maybe`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'invalid_payload' });
      expect(bad.json().error.message).toContain('outcome');
      expect((await get(`/api/clients/${main}/calls?from=yesterday`)).json().error.message).toContain('from');
      expect((await get(`/api/clients/${main}/calls?from=2026-05-06&to=2026-05-01`)).statusCode).toBe(400);
    });
  });

  describe('CSV export', () => {
    const rows = 2_345;
    const tricky = [
      { callId: 'csv_formula', summary: '=HYPERLINK("http://evil.example","click")' },
      { callId: 'csv_plus', summary: '+cmd|\' /C calc\'!A0' },
      { callId: 'csv_minus', summary: '-2+3' },
      { callId: 'csv_at', summary: '@SUM(A1:A2)' },
      { callId: 'csv_quotes', summary: 'He said "hello", then left\r\nsecond line' },
      { callId: 'csv_tab', summary: '\t=1+1' },
    ];

    beforeAll(async () => {
      await t.deps.tenancy.withTenant(bulk, (tx) =>
        tx.execute(sql`insert into calls (client_id, call_id, started_at, duration_ms, direction, from_number, summary)
          select ${bulk}, 'bulk_' || lpad(g::text, 5, '0'), timestamptz '2026-04-01T00:00:00Z' + g * interval '1 minute',
                 60000, 'inbound', '+1415555' || lpad(g::text, 4, '0'), 'Summary ' || g
            from generate_series(1, ${rows}) g`),
      );
      await insertCalls(
        bulk,
        tricky.map((row, i) => ({ ...row, startedAt: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000), fromNumber: '+14155550142' })),
      );
    });

    it('streams every call as RFC 4180 CSV with formula cells neutralised', async () => {
      const res = await get(`/api/clients/${bulk}/calls.csv`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="calls-${bulk}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
      expect(res.headers['content-length']).toBeUndefined();
      const table = parseCsv(res.body);
      const [header, ...data] = table;
      expect(header?.slice(0, 3)).toEqual(['call_id', 'started_at', 'ended_at']);
      expect(data).toHaveLength(rows + tricky.length);
      expect(new Set(data.map((r) => r[0])).size).toBe(rows + tricky.length);
      const column = (name: string) => header!.indexOf(name);
      const byId = new Map(data.map((r) => [r[0], r]));
      expect(byId.get('csv_formula')?.[column('summary')]).toBe(`'=HYPERLINK("http://evil.example","click")`);
      expect(byId.get('csv_plus')?.[column('summary')]).toBe(`'+cmd|' /C calc'!A0`);
      expect(byId.get('csv_minus')?.[column('summary')]).toBe(`'-2+3`);
      expect(byId.get('csv_at')?.[column('summary')]).toBe(`'@SUM(A1:A2)`);
      expect(byId.get('csv_tab')?.[column('summary')]).toBe(`'\t=1+1`);
      expect(byId.get('csv_quotes')?.[column('summary')]).toBe('He said "hello", then left\r\nsecond line');
      // Phone numbers are numbers, not formulas: left readable.
      expect(byId.get('csv_formula')?.[column('from_number')]).toBe('+14155550142');
      expect(byId.get('bulk_00001')?.[column('duration_seconds')]).toBe('60');
      expect(data[0]?.[0]).toBe(`bulk_${String(rows).padStart(5, '0')}`);
    });

    it('applies the list filters', async () => {
      const res = await get(`/api/clients/${bulk}/calls.csv?q=hyperlink&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`);
      expect(parseCsv(res.body).map((r) => r[0])).toEqual(['call_id', 'csv_formula']);
      const tricky = await get(`/api/clients/${bulk}/calls.csv?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`);
      expect(parseCsv(tricky.body)).toHaveLength(7);
    });

    it('reads in batches resumed from the last key: one chunk per batch, no row twice', async () => {
      const service = createClientApiService({ tenancy: t.deps.tenancy, publicBaseUrl: 'http://x' });
      const chunks: string[] = [];
      for await (const chunk of service.exportCallsCsv(bulk, {}, 500)) chunks.push(chunk);
      expect(chunks).toHaveLength(1 + Math.ceil((rows + tricky.length) / 500));
      const lines = parseCsv(chunks.join(''));
      expect(lines).toHaveLength(1 + rows + tricky.length);
    });

    it('an empty export is the header only', async () => {
      const res = await get(`/api/clients/${bulk}/calls.csv?q=nothing-matches-this`);
      expect(res.statusCode).toBe(200);
      expect(parseCsv(res.body)).toHaveLength(1);
    });
  });

  describe('settings', () => {
    it('masks every secret and gives the URLs to paste into Retell', async () => {
      const res = await get(`/api/clients/${secrets}/settings`);
      expect(res.statusCode).toBe(200);
      for (const value of [retellKeyFor(secrets), TWILIO_TOKEN, SENDGRID_KEY, HTTP_FN_SECRET]) {
        expect(res.body).not.toContain(value);
        expect(res.body).not.toContain(value.slice(0, -4));
      }
      const body = res.json();
      expect(body.config.retell.api_key).toBe(`••••${retellKeyFor(secrets).slice(-4)}`);
      expect(body.config.sms.auth_token).toBe(`••••${TWILIO_TOKEN.slice(-4)}`);
      expect(body.config.email.api_key).toBe(`••••${SENDGRID_KEY.slice(-4)}`);
      expect(body.config.functions[0].secret).toBe(`••••${HTTP_FN_SECRET.slice(-4)}`);
      expect(body.config.sms.account_sid).toBe(`AC${'0'.repeat(32)}`);
      expect(body.config.timezone).toBe('America/New_York');
      expect(body.retell.webhook_url).toBe(`http://localhost:3000/api/webhooks/retell/${secrets}`);
      expect(body.retell.function_url_template).toBe(`http://localhost:3000/api/webhooks/retell/${secrets}/functions/{name}`);
      expect(body.retell.function_urls).toEqual(
        expect.arrayContaining([
          { name: 'order_status', url: `http://localhost:3000/api/webhooks/retell/${secrets}/functions/order_status` },
          { name: 'take_message', url: `http://localhost:3000/api/webhooks/retell/${secrets}/functions/take_message` },
        ]),
      );
      // The registry's own copy is untouched (the mask works on a clone).
      expect(t.deps.registry.get(secrets)?.config?.retell.api_key).toBe(retellKeyFor(secrets));
    });

    it('shows the last 4 characters of a secret to admins only: a client_viewer sees the mask alone (issue 11, finding 8)', async () => {
      const settingsAs = async (role: 'client_viewer' | 'client_admin') => {
        const { accessToken } = await loginAs(t, role, secrets);
        const res = await t.app.inject({ method: 'GET', url: `/api/clients/${secrets}/settings`, headers: { authorization: `Bearer ${accessToken}` } });
        expect(res.statusCode).toBe(200);
        return res;
      };
      const viewer = await settingsAs('client_viewer');
      const config = viewer.json().config;
      expect([config.retell.api_key, config.sms.auth_token, config.email.api_key, config.functions[0].secret]).toEqual(['••••', '••••', '••••', '••••']);
      const admin = (await settingsAs('client_admin')).json().config;
      expect(admin.sms.auth_token).toBe(`••••${TWILIO_TOKEN.slice(-4)}`);
    });
  });
});
