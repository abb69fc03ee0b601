import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFor, callEvent, postSigned } from '../../test/helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../../test/helpers/test-app.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));

describe('call_inbound: context for an incoming call', () => {
  let t: TestApp;
  let blackhole: Server;
  let blackholeUrl: string;
  const open = uniqueId('in-open');
  const slow = uniqueId('in-slow');
  const capAgent = uniqueId('in-cap-agent');
  const capReject = uniqueId('in-cap-reject');
  const capAllow = uniqueId('in-cap-allow');

  const inbound = (clientId: string, from = '+14155550142') =>
    postSigned(t.app, clientId, { event: 'call_inbound', event_timestamp: Date.now(), call_inbound: { agent_id: agentFor(clientId), from_number: from, to_number: '+14155550100' } });

  beforeAll(async () => {
    // A calendar provider that accepts connections and never answers.
    blackhole = createServer(() => undefined);
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const address = blackhole.address();
    blackholeUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const dir = tempDir('clients-');
    writeClientFile(dir, testClientConfig(open, { business_hours: ALWAYS_OPEN, calendar: { provider: 'internal', min_notice_minutes: 0 }, retell: { api_key: `key_test_${open.replaceAll('-', '_')}_secret`, agent_ids: [agentFor(open)], dynamic_variables: { agent_name: 'Ava' } } }));
    writeClientFile(dir, testClientConfig(slow, {
      business_hours: ALWAYS_OPEN,
      calendar: { provider: 'zoho', data_center: 'us', calendar_id: 'cal', user_email: 'o@slow.example', oauth: { client_id: '1000.x', client_secret: 'secret-xyz', refresh_token: 'refresh-xyz' }, api_base_url: blackholeUrl, accounts_base_url: blackholeUrl },
    }));
    const cap = (id: string, overflow: string) =>
      testClientConfig(id, {
        retell: { api_key: `key_test_${id.replaceAll('-', '_')}_secret`, agent_ids: [agentFor(id)], overflow_agent_id: 'agent_overflow_1' },
        limits: { max_concurrent_calls: 1, overflow },
      });
    writeClientFile(dir, cap(capAgent, 'agent'));
    writeClientFile(dir, cap(capReject, 'reject'));
    writeClientFile(dir, cap(capAllow, 'allow'));
    t = await createTestApp({ clientsDir: dir });
  });
  afterAll(async () => {
    await t.close();
    blackhole.closeAllConnections();
    await new Promise((r) => blackhole.close(r));
  });

  it('answers dynamic variables (all strings), metadata.client_id and the static variables', async () => {
    const res = await inbound(open);
    expect(res.statusCode).toBe(200);
    const body = res.json().call_inbound;
    expect(body.metadata).toEqual({ client_id: open });
    const vars = body.dynamic_variables as Record<string, unknown>;
    for (const value of Object.values(vars)) expect(typeof value).toBe('string');
    expect(vars).toMatchObject({ business_name: `Test Client ${open}`, is_open_now: 'true', hours_today: '12 AM to midnight', availability_known: 'true', agent_name: 'Ava' });
    expect(vars.next_available_slots).toMatch(/(today|tomorrow) at /);
    expect(vars.current_time).toMatch(/ at \d{1,2}:\d{2} (AM|PM)$/);
    expect(vars.today).toMatch(/\d{4}$/);
  });

  it('knows a returning caller: name and upcoming appointment', async () => {
    const caller = '+14155550177';
    const slots = (await postSigned(t.app, open, { name: 'check_availability', args: {}, call: { call_id: 'call_in_1', agent_id: agentFor(open), from_number: caller } }, { path: `/api/webhooks/retell/${open}/functions/check_availability` })).json().slots;
    await postSigned(t.app, open, { name: 'book_appointment', args: { name: 'Robin Returning', start: slots[0].start }, call: { call_id: 'call_in_1', agent_id: agentFor(open), from_number: caller } }, { path: `/api/webhooks/retell/${open}/functions/book_appointment` });
    const vars = (await inbound(open, caller)).json().call_inbound.dynamic_variables;
    expect(vars.caller_name).toBe('Robin Returning');
    expect(vars.caller_upcoming_appointment).toMatch(/ at /);
    const stranger = (await inbound(open, '+14155550999')).json().call_inbound.dynamic_variables;
    expect(stranger.caller_name).toBeUndefined();
  });

  it('calendar provider down: still answers within 2 s with usable variables', async () => {
    const started = Date.now();
    const res = await inbound(slow);
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(200);
    expect(elapsed).toBeLessThan(2000);
    expect(res.json().call_inbound.dynamic_variables).toMatchObject({ availability_known: 'false', next_available_slots: 'unknown', business_name: `Test Client ${slow}` });
  });

  it.each([
    ['agent', capAgent, (body: Record<string, unknown>) => expect(body).toMatchObject({ override_agent_id: 'agent_overflow_1' })],
    ['reject', capReject, (body: Record<string, unknown>) => expect(body).toEqual({ reject: true })],
    ['allow', capAllow, (body: Record<string, unknown>) => expect(body).toMatchObject({ metadata: { over_capacity: true } })],
  ])('concurrency cap with overflow=%s', async (_mode, clientId, check) => {
    const below = (await inbound(clientId)).json().call_inbound;
    expect(below.reject).toBeUndefined();
    expect(below.override_agent_id).toBeUndefined();
    // One active call (started, not ended) reaches max_concurrent_calls = 1.
    await postSigned(t.app, clientId, callEvent(clientId, 'call_started', `call_active_${clientId}`, { start_timestamp: Date.now() - 1000 }));
    check((await inbound(clientId)).json().call_inbound);
    // When it ends, capacity is back.
    await postSigned(t.app, clientId, callEvent(clientId, 'call_ended', `call_active_${clientId}`, { start_timestamp: Date.now() - 1000, end_timestamp: Date.now() }));
    const after = (await inbound(clientId)).json().call_inbound;
    expect(after.reject).toBeUndefined();
    expect(after.override_agent_id).toBeUndefined();
  });

  it('a call started more than 30 minutes ago without an end no longer counts', async () => {
    await postSigned(t.app, capReject, callEvent(capReject, 'call_started', 'call_stale', { start_timestamp: Date.now() - 31 * 60_000 }));
    expect((await inbound(capReject)).json().call_inbound.reject).toBeUndefined();
  });
});
