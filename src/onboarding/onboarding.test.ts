/**
 * The onboarding engine against local fakes of Retell's management API, Zoho (OAuth + Calendar),
 * Twilio and SendGrid: verify → plan → provision → write, a second run that changes nothing,
 * --dry-run, each wrong credential named with nothing written and nothing provisioned, a failure
 * half-way rolled back, and doctor reporting drift introduced on the fake.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRetellFake, type RetellFake } from '../../test/fakes/retell-fake.ts';
import { startSendgridFake, type SendgridFake } from '../../test/fakes/sendgrid-fake.ts';
import { startTwilioFake, type TwilioFake } from '../../test/fakes/twilio-fake.ts';
import { startZohoFake, type ZohoFake } from '../../test/fakes/zoho-fake.ts';
import { parseClientSource } from '../clients/client-loader.ts';
import { createCircuitBreakers } from '../platform/provider-http.ts';
import { createClientFileWriter } from './client-file-writer.ts';
import { replacementPatch } from './db-client-writer.ts';
import { doctorClient, onboardClient, type ClientWriter, type OnboardingDeps, type OnboardingEvent } from './onboarding.service.ts';

const BASE = 'https://xlnc.example.com';
const KEY = randomBytes(32);
const TWILIO_SID = `AC${'1'.repeat(32)}`;
const OTHER_TWILIO_SID = `AC${'2'.repeat(32)}`;
const SERVICE_SID = `MG${'a'.repeat(32)}`;
const OTHER_SERVICE_SID = `MG${'b'.repeat(32)}`;

let retell: RetellFake;
let zoho: ZohoFake;
let twilio: TwilioFake;
let sendgrid: SendgridFake;
let dir: string;

beforeAll(async () => {
  [retell, zoho, twilio, sendgrid] = await Promise.all([
    startRetellFake(),
    startZohoFake(),
    startTwilioFake({ accounts: { [TWILIO_SID]: 'twilio-token-1', [OTHER_TWILIO_SID]: 'twilio-token-2' }, ownedNumbers: ['+13105550100'], messagingServices: { [SERVICE_SID]: TWILIO_SID, [OTHER_SERVICE_SID]: OTHER_TWILIO_SID } }),
    startSendgridFake({ apiKeys: ['SG.good-key'], verifiedSenders: ['hello@glow.example'] }),
  ]);
  zoho.addAccount({ clientId: '1000.GLOW', clientSecret: 'zoho-secret', refreshToken: '1000.refresh-glow', userEmail: 'owner@glow.example', calendars: ['cal-glow'] });
});
afterAll(async () => {
  await Promise.all([retell.close(), zoho.close(), twilio.close(), sendgrid.close()]);
});

let counter = 0;
let agentId: string;
let apiKey: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlnc-onboard-'));
  counter += 1;
  apiKey = `key_glow_${counter}`;
  agentId = `agent_glow_${counter}`;
  retell.addWorkspace({ apiKey, agents: [{ agent_id: agentId }], numbers: [{ phone_number: '+13105550100', agent_id: agentId }] });
  retell.writes.length = 0;
});

function answers(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: 'glow-salon',
    name: 'Glow Salon',
    environment: 'live',
    industry: 'salon',
    timezone: 'America/Los_Angeles',
    business_hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] },
    retell: { api_key: apiKey, agent_ids: [agentId], phone_numbers: ['+13105550100'], api_base_url: retell.url },
    calendar: {
      provider: 'zoho',
      data_center: 'us',
      calendar_id: 'cal-glow',
      oauth: { client_id: '1000.GLOW', client_secret: 'zoho-secret', refresh_token: '1000.refresh-glow' },
      api_base_url: zoho.url,
      accounts_base_url: zoho.url,
    },
    sms: { enabled: true, provider: 'twilio', account_sid: TWILIO_SID, auth_token: 'twilio-token-1', from_number: '+13105550100', api_base_url: twilio.url },
    email: { enabled: true, provider: 'sendgrid', api_key: 'SG.good-key', from: 'Glow Salon <hello@glow.example>', api_base_url: sendgrid.url },
    notifications: { business_email: 'owner@glow.example' },
    ...overrides,
  };
}

function deps(extra: Partial<OnboardingDeps> = {}): OnboardingDeps {
  return {
    ctx: { fetch, breakers: createCircuitBreakers({ failureThreshold: 1000, openMs: 1 }) },
    env: {},
    encryptionKeys: [KEY],
    publicBaseUrl: BASE,
    writer: createClientFileWriter(dir),
    ...extra,
  };
}

const webhook = `${BASE}/api/webhooks/retell/glow-salon`;

function withoutFrom(sms: unknown): Record<string, unknown> {
  const { from_number: _from, ...rest } = sms as Record<string, unknown>;
  return rest;
}

/** A database store in memory, as the admin service is to the engine: it seals secrets itself. */
function memoryDbWriter(rows: Map<string, Record<string, unknown>>, fileIds: readonly string[] = []): ClientWriter {
  return {
    sealsSecrets: true,
    async existing(id) {
      return fileIds.includes(id) ? 'file' : rows.has(id) ? 'db' : undefined;
    },
    async write(id, config) {
      rows.set(id, structuredClone(config));
      return 'database';
    },
  };
}

describe('onboardClient', () => {
  it('verifies every part, provisions Retell, writes a sealed client file that loads; a second run changes nothing', async () => {
    const events: OnboardingEvent[] = [];
    const started = performance.now();
    const outcome = await onboardClient(answers(), {}, deps(), (e) => events.push(e));
    const elapsed = performance.now() - started;
    expect(outcome.failure).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(elapsed).toBeLessThan(60_000);
    // Each check was reported as it ran, started before it finished.
    const checkIds = outcome.checks.map((c) => c.id);
    expect(checkIds).toEqual(expect.arrayContaining(['retell.key', `retell.agent.${agentId}`, 'retell.number.+13105550100', 'calendar.zoho.token', 'calendar.zoho.calendar', 'sms.twilio.account', 'sms.twilio.sender', 'email.sendgrid.send', 'templates']));
    expect(outcome.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(events.findIndex((e) => e.type === 'check_started' && e.id === 'retell.key')).toBeLessThan(events.findIndex((e) => e.type === 'check' && e.result.id === 'retell.key'));

    const ws = retell.workspace(apiKey);
    expect(ws.agents.get(agentId)?.webhook_url).toBe(webhook);
    const tools = ws.llms.get(`llm_${agentId}`)?.general_tools ?? [];
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['end_call', 'check_availability', 'book_appointment', 'take_message']));
    expect(tools.find((t) => t.name === 'book_appointment')?.url).toBe(`${webhook}/functions/book_appointment`);
    expect(ws.numbers.get('+13105550100')?.inbound_webhook_url).toBe(webhook);
    // Edits land on the draft; the new version is published last, so calls bound to the published version get them.
    expect(outcome.provisioned.length).toBe(4);
    expect(outcome.provisioned.at(-1)).toBe(`agent ${agentId}: publish the new version (live calls get the changes above)`);
    expect(retell.writes.at(-1)).toMatchObject({ method: 'POST', path: `/publish-agent-version/${agentId}`, body: { version: 0 } });
    const live = ws.published.get(agentId)?.at(-1);
    expect(live?.webhook_url).toBe(webhook);
    expect(live?.general_tools.find((t) => t.name === 'book_appointment')?.url).toBe(`${webhook}/functions/book_appointment`);
    expect(outcome.nextSteps.join('\n')).toContain('npx xlnc simulate-call --client glow-salon');

    const text = readFileSync(join(dir, 'glow-salon.json'), 'utf8');
    for (const secret of [apiKey, 'zoho-secret', '1000.refresh-glow', 'twilio-token-1', 'SG.good-key']) expect(text).not.toContain(secret);
    expect(text).toMatch(/"api_key": "enc:v1:/);
    const loaded = parseClientSource(join(dir, 'glow-salon.json'), Buffer.from(text), { env: {}, encryptionKeys: [KEY], logger: pino({ level: 'silent' }) });
    expect(loaded.issues).toEqual([]);
    expect(loaded.config?.retell.api_key).toBe(apiKey);
    // No temporary file left behind.
    expect(readdirSync(dir)).toEqual(['glow-salon.json']);

    // The same id again is refused without --update.
    const again = await onboardClient(answers(), {}, deps());
    expect(again.failure).toMatchObject({ part: 'client' });
    expect(again.failure?.fix).toContain('--update');

    // With --update: reconciled, no change in Retell.
    const writesBefore = retell.writes.length;
    const second = await onboardClient(answers(), { update: true }, deps());
    expect(second.ok).toBe(true);
    expect(second.plan).toEqual([]);
    expect(second.provisioned).toEqual([]);
    expect(retell.writes.length).toBe(writesBefore);
    expect(ws.published.get(agentId)).toHaveLength(1);
  });

  it('--dry-run prints the plan and changes nothing on the fake, writes nothing', async () => {
    const outcome = await onboardClient(answers(), { dryRun: true }, deps());
    expect(outcome.ok).toBe(true);
    expect(outcome.plan).toEqual([
      `agent ${agentId}: webhook URL (none) -> ${webhook}`,
      expect.stringMatching(new RegExp(`^Retell LLM llm_${agentId} \\(agent ${agentId}\\): tools add check_availability, `)),
      `number +13105550100: inbound webhook URL (none) -> ${webhook}`,
      `agent ${agentId}: publish the new version (live calls get the changes above)`,
    ]);
    expect(retell.writes).toEqual([]);
    expect(retell.workspace(apiKey).published.get(agentId)).toBeUndefined();
    expect(retell.workspace(apiKey).agents.get(agentId)?.webhook_url).toBeNull();
    expect(existsSync(join(dir, 'glow-salon.json'))).toBe(false);
  });

  const wrong: Array<[string, () => Record<string, unknown>, string, RegExp]> = [
    ['Retell key', () => answers({ retell: { ...(answers().retell as object), api_key: 'key_wrong' } }), 'retell', /Retell rejected the API key/],
    ['Retell agent', () => answers({ retell: { ...(answers().retell as object), agent_ids: [agentId, 'agent_gone'] } }), 'retell', /agent agent_gone does not exist/],
    ['Retell number', () => answers({ retell: { ...(answers().retell as object), phone_numbers: ['+13105550100', '+13105550199'] } }), 'retell', /\+13105550199 is not in this Retell workspace/],
    ['Zoho client secret', () => answers({ calendar: { ...(answers().calendar as { oauth: object }), oauth: { client_id: '1000.GLOW', client_secret: 'nope', refresh_token: '1000.refresh-glow' } } }), 'calendar', /invalid_client_secret/],
    ['Zoho calendar', () => answers({ calendar: { ...(answers().calendar as object), calendar_id: 'cal-other' } }), 'calendar', /cal-other is not among/],
    ['Twilio token', () => answers({ sms: { ...(answers().sms as object), auth_token: 'wrong' } }), 'sms', /Twilio rejected/],
    ['Twilio sender', () => answers({ sms: { ...(answers().sms as object), from_number: '+13105550111' } }), 'sms', /not a number of this Twilio account/],
    ['Twilio Messaging Service', () => answers({ sms: { ...withoutFrom(answers().sms), messaging_service_sid: `MG${'c'.repeat(32)}` } }), 'sms', /Messaging Service MGc+ does not exist in this Twilio account \(20404\)/],
    ["another account's Messaging Service", () => answers({ sms: { ...withoutFrom(answers().sms), messaging_service_sid: OTHER_SERVICE_SID } }), 'sms', /Messaging Service MGb+ does not exist in this Twilio account/],
    ['SendGrid key', () => answers({ email: { ...(answers().email as object), api_key: 'SG.bad' } }), 'email', /SendGrid rejected the API key/],
    ['SendGrid sender', () => answers({ email: { ...(answers().email as object), from: 'other@glow.example' } }), 'email', /not a verified Sender Identity/],
  ];
  it.each(wrong)('a wrong %s is named, with its fix; nothing written, nothing provisioned', async (_name, make, part, message) => {
    const outcome = await onboardClient(make(), {}, deps());
    expect(outcome.ok).toBe(false);
    expect(outcome.failure?.part).toBe(part);
    expect(outcome.failure?.message).toMatch(message);
    expect(outcome.failure?.fix).toBeTruthy();
    expect(retell.writes).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    // The failure never echoes a secret.
    expect(JSON.stringify(outcome)).not.toContain('twilio-token-1');
  });

  it('a failure half-way through provisioning rolls back what it changed and writes nothing', async () => {
    retell.failNext('/update-phone-number', 500);
    retell.failNext('/update-phone-number', 500); // the SDK's one retry
    const outcome = await onboardClient(answers(), {}, deps());
    expect(outcome.ok).toBe(false);
    expect(outcome.failure?.part).toBe('provision');
    expect(outcome.failure?.message).toMatch(/rolled back; Retell is as it was; nothing was written/);
    expect(outcome.rolledBack).toHaveLength(2);
    const ws = retell.workspace(apiKey);
    expect(ws.agents.get(agentId)?.webhook_url).toBeNull();
    expect(ws.llms.get(`llm_${agentId}`)?.general_tools.map((t) => t.name)).toEqual(['end_call']);
    expect(existsSync(join(dir, 'glow-salon.json'))).toBe(false);
    // Run again: it re-plans from Retell's state and completes.
    const retry = await onboardClient(answers(), {}, deps());
    expect(retry.ok).toBe(true);
  });

  it('a Messaging Service sender (MG…) of this account passes: fetched from /v1/Services/{sid}', async () => {
    const outcome = await onboardClient(answers({ sms: { ...withoutFrom(answers().sms), messaging_service_sid: SERVICE_SID } }), { dryRun: true }, deps());
    expect(outcome.failure).toBeUndefined();
    expect(outcome.checks.find((c) => c.id === 'sms.twilio.messaging_service')).toMatchObject({ status: 'pass', detail: `exists in this account (Service ${SERVICE_SID.slice(-4)})` });
    expect(outcome.checks.some((c) => c.id === 'sms.twilio.sender')).toBe(false);
  });

  it('the database store gets plain secrets to seal (env: and enc: resolved); the stores do not mix', async () => {
    const rows = new Map<string, Record<string, unknown>>();
    const sealedToken = (await import('../platform/secrets.ts')).encryptSecret('twilio-token-1', KEY);
    const given = answers({ sms: { ...(answers().sms as object), auth_token: sealedToken }, email: { ...(answers().email as object), api_key: 'env:GLOW_SENDGRID' } });
    const saved = await onboardClient(given, {}, deps({ writer: memoryDbWriter(rows), env: { GLOW_SENDGRID: 'SG.good-key' } }));
    expect(saved.failure).toBeUndefined();
    expect(saved.written).toBe('database');
    expect(rows.get('glow-salon')).toMatchObject({ sms: { auth_token: 'twilio-token-1' }, email: { api_key: 'SG.good-key' }, retell: { api_key: apiKey } });

    // A database client's id through the file store, and a file client's through the database store: refused before any check.
    const viaFile = await onboardClient(answers(), { update: true }, deps({ writer: { ...createClientFileWriter(dir), existing: async () => 'db' } }));
    expect(viaFile.failure).toMatchObject({ part: 'client', message: 'client glow-salon is stored in the database, not in a client file' });
    expect(viaFile.failure?.fix).toContain('--store db --update');
    const viaDb = await onboardClient(answers(), { update: true }, deps({ writer: memoryDbWriter(new Map(), ['glow-salon']) }));
    expect(viaDb.failure).toMatchObject({ part: 'client', message: 'client glow-salon is defined by a client file, not the database' });
    expect(viaFile.checks.concat(viaDb.checks)).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replacementPatch: an update through the admin service replaces the client (keys the answers leave out are removed)', () => {
    const current = { client_id: 'a', name: 'A', sms: { provider: 'twilio', from_number: '+1', messaging_service_sid: 'MG1' }, email: { provider: 'sendgrid' }, retell: { agent_ids: ['x', 'y'] } };
    const next = { client_id: 'a', name: 'B', sms: { provider: 'twilio', from_number: '+2' }, retell: { agent_ids: ['z'] } };
    expect(replacementPatch(current, next)).toEqual({ client_id: 'a', name: 'B', email: null, sms: { provider: 'twilio', from_number: '+2', messaging_service_sid: null }, retell: { agent_ids: ['z'] } });
  });

  it('a live client without ENCRYPTION_KEY is refused before anything is touched, unless secrets go to env: references', async () => {
    const refused = await onboardClient(answers(), {}, deps({ encryptionKeys: [] }));
    expect(refused.failure?.part).toBe('write');
    expect(retell.writes).toEqual([]);
    const viaEnv = await onboardClient(answers(), { secrets: 'env' }, deps({ encryptionKeys: [] }));
    expect(viaEnv.ok).toBe(true);
    expect(viaEnv.envVariables).toContain('XLNC_GLOW_SALON_RETELL_API_KEY');
    const text = readFileSync(join(dir, 'glow-salon.json'), 'utf8');
    expect(text).toContain('"api_key": "env:XLNC_GLOW_SALON_RETELL_API_KEY"');
    expect(text).not.toContain(apiKey);
  });
});

describe('doctorClient', () => {
  it('reports drift introduced on the fake: webhook URL changed, tool missing, agent deleted', async () => {
    expect((await onboardClient(answers(), {}, deps())).ok).toBe(true);
    const loaded = parseClientSource(join(dir, 'glow-salon.json'), readFileSync(join(dir, 'glow-salon.json')), { env: {}, encryptionKeys: [KEY], logger: pino({ level: 'silent' }) });
    const client = { id: 'glow-salon', config: loaded.config! };
    const clean = await doctorClient(client, deps());
    expect(clean.ok).toBe(true);
    expect(clean.drift).toEqual([]);

    const ws = retell.workspace(apiKey);
    ws.agents.get(agentId)!.webhook_url = 'https://elsewhere.example/hook';
    const llm = ws.llms.get(`llm_${agentId}`)!;
    llm.general_tools = llm.general_tools.filter((t) => t.name !== 'book_appointment');
    const drifted = await doctorClient(client, deps());
    expect(drifted.ok).toBe(false);
    expect(drifted.drift).toEqual([
      `agent ${agentId}: webhook URL https://elsewhere.example/hook -> ${webhook}`,
      `Retell LLM llm_${agentId} (agent ${agentId}): tools add book_appointment`,
      `agent ${agentId}: publish the new version (live calls get the changes above)`,
    ]);
    expect(retell.writes.filter((w) => w.apiKey === apiKey)).toHaveLength(4); // doctor changed nothing

    // An edit made in Retell after onboarding (a new draft version) that nobody published: drift, and onboarding --update publishes it.
    await onboardClient(answers(), { update: true }, deps());
    const writes = retell.writes.length;
    const edited = await fetch(`${retell.url}/update-agent/${agentId}`, { method: 'PATCH', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: 'Glow front desk' }) });
    expect(edited.status).toBe(200);
    expect(ws.agents.get(agentId)).toMatchObject({ version: 2, is_published: false });
    const draft = await doctorClient(client, deps());
    expect(draft.ok).toBe(false);
    expect(draft.drift).toEqual([`agent ${agentId}: draft version 2 is not published (live calls do not get it) -> publish`]);
    expect(retell.writes.length).toBe(writes + 1); // doctor published nothing
    const published = await onboardClient(answers(), { update: true }, deps());
    expect(published.provisioned).toEqual([`agent ${agentId}: draft version 2 is not published (live calls do not get it) -> publish`]);
    expect(ws.agents.get(agentId)).toMatchObject({ version: 2, is_published: true });
    expect((await doctorClient(client, deps())).drift).toEqual([]);

    ws.agents.delete(agentId);
    const deleted = await doctorClient(client, deps());
    expect(deleted.checks.find((c) => c.id === `retell.agent.${agentId}`)).toMatchObject({ status: 'fail', detail: `agent ${agentId} does not exist in this Retell workspace` });
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
