/**
 * The console's side of onboarding: Zoho connect (the fake's consent redirect lands on our
 * callback; a wrong state, a replayed callback and a replayed code are refused), then
 * POST /api/admin/onboarding streaming each check as NDJSON and saving the client in the database,
 * whose calendar is then read with the connected token; doctor; and who may call these routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetellFake, type RetellFake } from '../../test/fakes/retell-fake.ts';
import { startZohoFake, type ZohoFake } from '../../test/fakes/zoho-fake.ts';
import { bearer, loginAs, type TestUser } from '../../test/helpers/auth.ts';
import { createTestApp, uniqueId, type TestApp } from '../../test/helpers/test-app.ts';
import { isServable } from '../clients/client.schema.ts';
import { decryptSecret } from '../platform/secrets.ts';
import { connectZohoFromCli } from './onboarding.cli.ts';
import type { OnboardingEvent } from './onboarding.service.ts';

describe('onboarding routes', () => {
  let t: TestApp;
  let admin: TestUser;
  let clientAdmin: TestUser;
  let zoho: ZohoFake;
  let retell: RetellFake;
  const clientId = uniqueId('harbor');
  const agentId = `agent_${clientId.replaceAll('-', '')}`;
  const retellKey = `key_${clientId.replaceAll('-', '_')}_live`;
  const refreshToken = `1000.refresh-${clientId}`;

  beforeAll(async () => {
    [zoho, retell] = await Promise.all([startZohoFake(), startRetellFake()]);
    zoho.addAccount({ clientId: '1000.HARBOR', clientSecret: 'harbor-zoho-secret', refreshToken, userEmail: 'owner@harbor.example', calendars: ['cal-harbor'] });
    retell.addWorkspace({ apiKey: retellKey, agents: [{ agent_id: agentId }], numbers: [{ phone_number: '+13105550177', agent_id: agentId }] });
    t = await createTestApp();
    admin = await loginAs(t, 'platform_admin');
    clientAdmin = await loginAs(t, 'client_admin', clientId);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([zoho.close(), retell.close()]);
  });

  const startConnect = async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/admin/zoho/connect',
      headers: bearer(admin.accessToken),
      payload: { client_id: clientId, data_center: 'us', oauth_client_id: '1000.HARBOR', oauth_client_secret: 'harbor-zoho-secret', accounts_base_url: zoho.url },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; authorize_url: string; redirect_uri: string }>();
  };
  /** What the browser does: open the consent link, follow Zoho's redirect to our callback. */
  const consent = async (authorizeUrl: string) => {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://localhost:3000/api/oauth/zoho/callback');
    return `${location.pathname}${location.search}`;
  };
  const answers = () => ({
    client_id: clientId,
    name: 'Harbor Physio',
    environment: 'live',
    industry: 'medical',
    timezone: 'America/Los_Angeles',
    business_hours: { mon: ['08:00-18:00'] },
    retell: { api_key: retellKey, agent_ids: [agentId], phone_numbers: ['+13105550177'], api_base_url: retell.url },
    calendar: { provider: 'zoho', data_center: 'us', calendar_id: 'cal-harbor', oauth: { client_id: '1000.HARBOR', client_secret: 'harbor-zoho-secret' }, api_base_url: zoho.url, accounts_base_url: zoho.url },
  });
  const events = (body: string) =>
    body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as OnboardingEvent);

  it('refuses the admin routes without a token (401) and to a client admin (403); the callback needs no token but a signed state', async () => {
    for (const [method, url] of [
      ['POST', '/api/admin/onboarding'],
      ['POST', '/api/admin/zoho/connect'],
      ['GET', '/api/admin/zoho/connect/00000000-0000-0000-0000-000000000000'],
      ['POST', `/api/admin/clients/${clientId}/doctor`],
    ] as const) {
      expect((await t.app.inject({ method, url, payload: {} })).statusCode, url).toBe(401);
      const forbidden = await t.app.inject({ method, url, headers: bearer(clientAdmin.accessToken), payload: {} });
      expect(forbidden.statusCode, url).toBe(403);
      expect(forbidden.json()).toMatchObject({ error: { code: 'forbidden' } });
    }
    const unsigned = await t.app.inject({ method: 'GET', url: '/api/oauth/zoho/callback?code=x&state=nope' });
    expect(unsigned.statusCode).toBe(400);
    expect(unsigned.json()).toMatchObject({ error: { code: 'invalid_payload', message: expect.stringContaining('state') } });
  });

  it('Zoho connect: consent lands on our callback; the state is single use, a forged state and a replayed code are refused; then onboarding streams each check and the client reads its calendar', async () => {
    const flow = await startConnect();
    const authorize = new URL(flow.authorize_url);
    expect(authorize.origin + authorize.pathname).toBe(`${zoho.url}/oauth/v2/auth`);
    expect(authorize.searchParams.get('access_type')).toBe('offline');
    expect(authorize.searchParams.get('redirect_uri')).toBe(flow.redirect_uri);
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/zoho/connect/${flow.id}`, headers: bearer(admin.accessToken) })).json()).toMatchObject({ status: 'pending' });

    const callback = await consent(flow.authorize_url);
    // A state whose signature was tampered with is refused before Zoho is asked anything.
    const forged = callback.replace(/state=([^&]+)/, (_m, s: string) => `state=${decodeURIComponent(s).slice(0, -2)}xx`);
    const forgedRes = await t.app.inject({ method: 'GET', url: forged });
    expect(forgedRes.statusCode).toBe(400);
    expect(zoho.exchangedCodes).toHaveLength(0);

    const landed = await t.app.inject({ method: 'GET', url: callback });
    expect(landed.statusCode, landed.body).toBe(200);
    expect(landed.body).toContain(`Zoho is connected for ${clientId}`);
    expect(landed.body).not.toContain(refreshToken);
    const status = await t.app.inject({ method: 'GET', url: `/api/admin/zoho/connect/${flow.id}`, headers: bearer(admin.accessToken) });
    expect(status.json()).toEqual({ id: flow.id, client_id: clientId, status: 'connected' });

    // The same callback again (state used): refused.
    const replayed = await t.app.inject({ method: 'GET', url: callback });
    expect(replayed.statusCode).toBe(409);
    // The same code under a fresh, genuine state: Zoho refuses it, the flow fails.
    const second = await startConnect();
    const code = new URL(`http://x${callback}`).searchParams.get('code') ?? '';
    const state = new URL(second.authorize_url).searchParams.get('state') ?? '';
    const replayedCode = await t.app.inject({ method: 'GET', url: `/api/oauth/zoho/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}` });
    expect(replayedCode.statusCode).toBe(400);
    expect(replayedCode.json()).toMatchObject({ error: { message: expect.stringContaining('invalid_code') } });
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/zoho/connect/${second.id}`, headers: bearer(admin.accessToken) })).json()).toMatchObject({ status: 'failed' });

    // Onboard with the connected flow: each check streamed, the client saved in the database.
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/onboarding', headers: bearer(admin.accessToken), payload: { answers: answers(), zoho_connection_id: flow.id } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const stream = events(res.body);
    const done = stream.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') throw new Error('no done event');
    expect(done.outcome.failure).toBeUndefined();
    expect(done.outcome.written).toBe('database');
    expect(stream.filter((e) => e.type === 'check_started').length).toBe(stream.filter((e) => e.type === 'check').length);
    expect(stream.find((e) => e.type === 'check' && e.result.id === 'calendar.zoho.calendar')).toMatchObject({ result: { status: 'pass' } });
    expect(res.body).not.toContain(retellKey);
    expect(res.body).not.toContain('harbor-zoho-secret');
    expect(retell.workspace(retellKey).agents.get(agentId)?.webhook_url).toBe(`http://localhost:3000/api/webhooks/retell/${clientId}`);

    // Live without a restart, and its calendar is read with the connected token.
    const record = t.deps.registry.get(clientId);
    expect(record?.source).toBe('db');
    expect(record?.status).toBe('active');
    const calendarConfig = record?.config?.calendar;
    expect(calendarConfig?.provider === 'zoho' ? calendarConfig.oauth.refresh_token : undefined).toBe(refreshToken);
    const detail = await t.app.inject({ method: 'GET', url: `/api/admin/clients/${clientId}`, headers: bearer(admin.accessToken) });
    expect(detail.body).not.toContain(refreshToken);
    const before = zoho.requests.length;
    if (!isServable(record)) throw new Error('not servable');
    const calendar = t.deps.adapters.calendarFor(record);
    expect(calendar.kind).toBe('zoho');
    await calendar.findSlots();
    expect(zoho.requests.slice(before).some((r) => r.path.startsWith('/api/v1/calendars') && r.account === refreshToken)).toBe(true);

    // Doctor on the console: a drift made on the fake is reported.
    retell.workspace(retellKey).agents.get(agentId)!.webhook_url = 'https://elsewhere.example/hook';
    const doctor = await t.app.inject({ method: 'POST', url: `/api/admin/clients/${clientId}/doctor`, headers: bearer(admin.accessToken) });
    expect(doctor.statusCode, doctor.body).toBe(200);
    expect(doctor.json()).toMatchObject({ ok: false, drift: [`agent ${agentId}: webhook URL https://elsewhere.example/hook -> http://localhost:3000/api/webhooks/retell/${clientId}`, `agent ${agentId}: publish the new version (live calls get the changes above)`] });
  });

  it('the CLI prints the consent link and waits; when the callback lands it has the sealed refresh token', async () => {
    let out = '';
    const io = { stdout: (text: string) => void (out += text), stderr: (text: string) => void (out += text), env: {}, encryptionKeys: [...t.deps.config.encryptionKeys] };
    const connectDeps = { tenancy: t.deps.tenancy, stateSecret: t.deps.config.jwtSecret, encryptionKeys: t.deps.config.encryptionKeys, publicBaseUrl: 'http://localhost:3000' };
    const waiting = connectZohoFromCli(io, { clientId, dataCenter: 'us', oauthClientId: '1000.HARBOR', oauthClientSecret: 'harbor-zoho-secret', accountsBaseUrl: zoho.url }, { openZohoConnect: async () => ({ deps: connectDeps, close: async () => undefined }), pollMs: 20 });
    let link: string | undefined;
    for (let i = 0; i < 200 && link === undefined; i++) {
      link = /(http\S+\/oauth\/v2\/auth\S+)/.exec(out)?.[1];
      if (link === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(out).toContain('waiting');
    const landed = await t.app.inject({ method: 'GET', url: await consent(link ?? '') });
    expect(landed.statusCode).toBe(200);
    const result = await waiting;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sealedRefreshToken).toMatch(/^enc:v1:/);
    expect(decryptSecret(result.sealedRefreshToken, t.deps.config.encryptionKeys)).toBe(refreshToken);
    expect(out).not.toContain(refreshToken);
  });

  it('a wrong credential from the console: the named failure streamed, nothing saved, nothing provisioned', async () => {
    const id = uniqueId('wrong');
    const writes = retell.writes.length;
    const body = { ...answers(), client_id: id, calendar: { provider: 'internal' }, retell: { ...answers().retell, api_key: 'key_wrong' } };
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/onboarding', headers: bearer(admin.accessToken), payload: { answers: body } });
    const done = events(res.body).at(-1);
    expect(done).toMatchObject({ type: 'done', outcome: { ok: false, failure: { part: 'retell', message: expect.stringContaining('Retell rejected the API key') } } });
    expect(retell.writes.length).toBe(writes);
    expect(t.deps.registry.get(id)).toBeUndefined();
    const invalid = await t.app.inject({ method: 'POST', url: '/api/admin/onboarding', headers: bearer(admin.accessToken), payload: { answers: 'nope' } });
    expect(invalid.statusCode).toBe(400);
  });
});
