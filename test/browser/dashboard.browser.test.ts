/**
 * The dashboard in a real browser against a real server process: two clients with calls simulated
 * through the signed webhook path, a client admin for each and an operator. Every page is checked
 * with axe-core and photographed at 375 px and desktop (.tmp/screenshots).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateCall, type Scenario } from '../../src/webhooks/retell/call-simulator.ts';
import { lastDays } from '../../web/src/lib/dates.ts';
import { formatCount, formatDuration, formatPercent } from '../../web/src/lib/format.ts';
import { ROOT } from '../helpers/paths.ts';
import { agentFor, callEvent, retellKeyFor } from '../helpers/retell.ts';
import { signRetellBody } from '../../src/webhooks/retell/retell-signature.ts';
import { migratedDataDir, tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';
import { dropSchema, TEST_DATABASE_URL } from '../helpers/test-db.ts';
import { freePort } from '../helpers/processes.ts';
import { clearSession, createUserWithCli, ensureBundle, launchBrowser, pageChecks, settled, startServer, type ServerProcess } from './browser-harness.ts';

const QUEUE_SCHEMA = `pgboss_web_${randomBytes(4).toString('hex')}`;
const TIMEZONE = 'America/New_York';

function clientConfig(id: string, name: string) {
  return testClientConfig(id, {
    name,
    timezone: TIMEZONE,
    notifications: { business_email: `owner@${id}.example` },
    sms: { provider: 'twilio', enabled: true, account_sid: `AC${'0'.repeat(32)}`, auth_token: 'twilio_token_literal_0123', from_number: '+14155550199' },
    email: { provider: 'sendgrid', enabled: true, api_key: 'SG.literal_key_for_tests_0123', from: `hello@${id}.example` },
    business: { address: '1 Main St, Springfield', website: 'https://example.com', services: ['Tax returns', 'Bookkeeping'] },
  });
}

describe('the dashboard in a browser', () => {
  const clientA = uniqueId('web-a');
  const clientB = uniqueId('web-b');
  const clientBroken = uniqueId('web-x');
  const nameA = 'Acme Tax Office';
  const nameB = 'Bright Smile Dental';
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const users = {
    operator: `operator-${randomBytes(4).toString('hex')}@example.test`,
    ownerA: `owner-a-${randomBytes(4).toString('hex')}@example.test`,
    ownerB: `owner-b-${randomBytes(4).toString('hex')}@example.test`,
  };
  const scenariosA: Scenario[] = ['booked', 'message', 'no-answer', 'voicemail', 'booked'];
  const scenariosB: Scenario[] = ['message', 'booked'];
  let server: ServerProcess;
  let browser: BrowserContext;
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser);
  const callIdsB: string[] = [];

  const apiToken = async (email: string): Promise<string> => {
    const res = await fetch(`${server.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const apiGet = async (token: string, path: string) => {
    const res = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };


  /** Checks and photographs the page as it is now. */

  async function signIn(page: Page, email: string): Promise<void> {
    // One browser profile for every test: start each signed out.
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    ensureBundle();
    const clientsDir = tempDir('web-clients-');
    writeClientFile(clientsDir, clientConfig(clientA, nameA));
    writeClientFile(clientsDir, clientConfig(clientB, nameB));
    // A broken file: the operator must see it and why.
    writeClientFile(clientsDir, { client_id: clientBroken, name: 'Broken Salon', retell: { agent_ids: [] } });
    const port = await freePort();
    const env: Record<string, string> = {
      // Not a first start (accounts.browser.test.ts is): the embedded database is migrated already.
      DATA_DIR: migratedDataDir('web-data-'),
      CLIENTS_DIR: clientsDir,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, QUEUE_SCHEMA } : {}),
    };
    server = await startServer(env, port);
    // Through the running server's share of its embedded database (or PostgreSQL), all three at once.
    await Promise.all([
      createUserWithCli(env, { email: users.operator, password, role: 'platform_admin' }),
      createUserWithCli(env, { email: users.ownerA, password, role: 'client_admin', clientId: clientA }),
      createUserWithCli(env, { email: users.ownerB, password, role: 'client_admin', clientId: clientB }),
    ]);

    const simulate = async (clientId: string, scenarios: Scenario[]) => {
      const ids: string[] = [];
      for (const [i, scenario] of scenarios.entries()) {
        const callId = `call_web_${clientId.replaceAll('-', '')}_${i}`;
        await simulateCall({ baseUrl: server.baseUrl, clientId, apiKey: retellKeyFor(clientId), agentId: agentFor(clientId), scenario, callId, customerNumber: `+1415555${String(1000 + i)}` });
        ids.push(callId);
      }
      return ids;
    };
    await simulate(clientA, scenariosA);
    callIdsB.push(...(await simulate(clientB, scenariosB)));

    // The follow-ups run as jobs: wait until every call's texts and emails exist.
    const token = await apiToken(users.operator);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [ma, mb] = await Promise.all([apiGet(token, `/api/clients/${clientA}/messages?limit=200`), apiGet(token, `/api/clients/${clientB}/messages?limit=200`)]);
      const count = (m: { body: Record<string, unknown> }) => (m.body.data as unknown[]).length;
      if (count(ma) >= scenariosA.length && count(mb) >= scenariosB.length) break;
      if (Date.now() > deadline) throw new Error(`messages not created within 30 s: ${count(ma)} / ${count(mb)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await dropSchema(QUEUE_SCHEMA);
  });

  it('keeps the first load under 200 KB of JavaScript, gzipped (npm run size:web)', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'web/build.mjs'), '--report'], { cwd: ROOT, encoding: 'utf8' });
    const lines = result.stdout.trim().split('\n');
    process.stdout.write(`${lines[0] ?? ''}\n`);
    const figures = JSON.parse(lines.at(-1) ?? '{}') as { initial_js_gzip_bytes: number; limit_bytes: number };
    expect(result.status).toBe(0);
    expect(figures.initial_js_gzip_bytes).toBeGreaterThan(0);
    expect(figures.initial_js_gzip_bytes).toBeLessThanOrEqual(figures.limit_bytes);
  });

  it('serves the app at / with its CSP, caches hashed assets for good and index.html never, and leaves /api/* 404s to the API', async () => {
    const index = await fetch(`${server.baseUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.baseUrl}${asset}`, { headers: { 'accept-encoding': 'br' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('br');

    const deep = await fetch(`${server.baseUrl}/c/${clientA}/calls?outcome=booked`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);

    for (const path of ['/api/nothing-here', '/api/clients', '/assets/missing-0000.js']) {
      const res = await fetch(`${server.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect(server.output()).not.toContain('Dashboard not built');
  });

  it('a client admin signs in and the overview shows the API’s figures', async () => {
    const page = await newPage();
    // By keyboard alone: the email field has focus, Tab to the password, Enter signs in.
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.keyboard.type(users.ownerA);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await expect.poll(() => page.url()).toContain(`/c/${clientA}`);

    const range = lastDays(30, TIMEZONE);
    const token = await apiToken(users.ownerA);
    const { body } = await apiGet(token, `/api/clients/${clientA}/analytics?from=${range.from}&to=${range.to}&bucket=day`);
    const totals = body.totals as { calls: number; connected: number; average_duration_ms: number; appointments_booked: number; booking_conversion: number };
    expect(totals.calls).toBe(scenariosA.length);
    const expected = {
      Calls: formatCount(totals.calls),
      Answered: formatPercent(totals.connected / totals.calls),
      'Average call': formatDuration(totals.average_duration_ms),
      'Appointments booked': formatCount(totals.appointments_booked),
      'Booking conversion': formatPercent(totals.booking_conversion),
    };
    await settled(page);
    for (const [label, value] of Object.entries(expected)) {
      await expect.poll(() => page.getByRole('listitem', { name: `${label}: ${value}` }).count(), { message: label }).toBe(1);
    }
    await look(page, 'overview');
    await page.close();
  });

  it('lists the calls, opens one with its transcript, and downloads the CSV', async () => {
    const page = await newPage();
    await signIn(page, users.ownerA);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Calls' }).click();
    await page.getByRole('heading', { level: 1, name: 'Calls' }).waitFor();
    await settled(page);
    await expect.poll(() => page.getByRole('table', { name: 'Calls' }).getByRole('row').count()).toBe(scenariosA.length + 1);
    await look(page, 'calls');

    await page.getByLabel('Outcome').selectOption('booked');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url()).toContain('outcome=booked');
    await expect.poll(() => page.getByRole('table', { name: 'Calls' }).getByRole('row').count()).toBe(3);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    const csv = readFileSync((await file.path()) ?? '', 'utf8').trim().split(/\r\n/);
    expect(csv[0]).toContain('call_id');
    expect(csv).toHaveLength(3);

    await page.getByRole('table', { name: 'Calls' }).getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: /^Call with / }).waitFor();
    const transcript = page.getByRole('list', { name: 'Transcript' });
    await expect.poll(() => transcript.textContent()).toContain("I'd like to book an appointment");
    await look(page, 'call-detail');
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await expect.poll(() => page.getByText('Agent used book appointment').count()).toBe(1);
    await look(page, 'call-timeline');
    await page.close();
  });

  it('finds a call by a word said in it (full-text search), not another client’s', async () => {
    const page = await newPage();
    await signIn(page, users.ownerA);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Calls' }).click();
    await page.getByRole('heading', { level: 1, name: 'Calls' }).waitFor();
    // Full-text search: a word only the voicemail's caller said (in its transcript, not its summary).
    await page.getByLabel('Search').fill('Springfield');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url()).toContain('q=Springfield');
    await expect.poll(() => page.getByRole('table', { name: 'Calls' }).getByRole('row').count()).toBe(2);
    await expect.poll(() => page.getByRole('table', { name: 'Calls' }).textContent()).toContain('Voicemail');
    await look(page, 'calls-search');
    const ownerB = await apiToken(users.ownerB);
    expect(((await apiGet(ownerB, `/api/clients/${clientB}/calls?q=Springfield`)).body.data as unknown[]).length).toBe(0);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Calls' }).getByRole('row').count()).toBe(scenariosA.length + 1);
    await page.close();
  });

  it('Live now shows a call the moment it starts, with its transcript as Retell sends it', async () => {
    const page = await newPage();
    await signIn(page, users.ownerA);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Live now' }).click();
    await page.getByRole('heading', { level: 1, name: 'Live now' }).waitFor();
    await page.getByText('No calls in progress').waitFor();
    await look(page, 'live-empty');
    const webhook = async (payload: unknown) => {
      const body = JSON.stringify(payload);
      const res = await fetch(`${server.baseUrl}/api/webhooks/retell/${clientA}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, retellKeyFor(clientA), Date.now()) },
        body,
      });
      expect(res.status).toBe(204);
    };
    const callId = `call_web_live_${randomBytes(4).toString('hex')}`;
    const live = { agent_id: agentFor(clientA), from_number: '+14155550177', start_timestamp: Date.now() };
    await webhook(callEvent(clientA, 'call_started', callId, live));
    await page.getByRole('article', { name: 'Call with +1 415-555-0177' }).waitFor({ timeout: 5_000 });
    await webhook(
      callEvent(clientA, 'transcript_updated', callId, {
        ...live,
        call_status: 'ongoing',
        transcript_object: [
          { role: 'agent', content: 'Thanks for calling Acme Tax Office, how can I help you today?', words: [] },
          { role: 'user', content: 'I have a question about my quarterly filing.', words: [] },
        ],
      }),
    );
    await expect.poll(() => page.getByRole('list', { name: 'Live transcript with +1 415-555-0177' }).textContent()).toContain('quarterly filing');
    await look(page, 'live');
    await webhook(callEvent(clientA, 'call_ended', callId, live));
    await page.getByText('No calls in progress').waitFor({ timeout: 5_000 });
    await page.close();
  }, 60_000);

  it('shows appointments, messages and settings with secrets masked', async () => {
    const page = await newPage();
    await signIn(page, users.ownerA);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Client sections' });

    await nav.getByRole('link', { name: 'Appointments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Appointments' }).waitFor();
    await settled(page);
    await expect.poll(() => page.getByRole('table', { name: 'Appointments' }).getByRole('row').count()).toBe(3);
    await look(page, 'appointments');
    await page.getByRole('button', { name: 'Past' }).click();
    await settled(page);
    await expect.poll(() => page.getByText('No past appointments').count()).toBe(1);
    await look(page, 'appointments-past-empty');

    await nav.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    await settled(page);
    expect(await page.getByRole('table', { name: 'Messages' }).getByText('Sandbox').count()).toBeGreaterThan(0);
    await look(page, 'messages');

    await nav.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await settled(page);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(`${server.baseUrl}/api/webhooks/retell/${clientA}`);
    expect(text).toContain('messages are rendered, not sent');
    for (const secret of [retellKeyFor(clientA), 'twilio_token_literal_0123', 'SG.literal_key_for_tests_0123']) expect(text).not.toContain(secret);
    expect(text).toContain('••••');
    await look(page, 'settings');
    await page.close();
  });

  it("client A's user reaches none of client B's pages or data", async () => {
    const page = await newPage();
    await signIn(page, users.ownerA);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    for (const path of [`/c/${clientB}`, `/c/${clientB}/calls`, `/c/${clientB}/calls/${callIdsB[0]}`, `/c/${clientB}/settings`, '/operator', '/operator/users']) {
      await page.goto(`${server.baseUrl}${path}`);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(await page.locator('body').textContent(), path).not.toContain(nameB);
    }
    await look(page, 'not-found');
    const token = await apiToken(users.ownerA);
    for (const path of [`/api/clients/${clientB}/calls`, `/api/clients/${clientB}/calls/${callIdsB[0]}`, `/api/clients/${clientB}/analytics`, `/api/clients/${clientB}/settings`]) {
      expect((await apiGet(token, path)).status, path).toBe(404);
    }
    expect((await apiGet(token, '/api/admin/clients')).status).toBe(403);
    await page.close();
  });

  it('the operator sees both clients, opens one, and reads users and the audit log', async () => {
    const page = await newPage();
    await signIn(page, users.operator);
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
    await settled(page);
    const table = page.getByRole('table', { name: 'Clients' });
    await expect.poll(() => table.getByRole('link', { name: nameA }).count()).toBe(1);
    await expect.poll(() => table.getByRole('link', { name: nameB }).count()).toBe(1);
    const broken = table.getByRole('row').filter({ hasText: clientBroken });
    await expect.poll(() => broken.textContent()).toContain('Configuration invalid');
    expect(await broken.textContent()).toContain('timezone');
    await look(page, 'operator-clients');

    await page.getByRole('button', { name: /Client/ }).first().click();
    await expect.poll(() => page.url()).toContain('sort=name');

    await table.getByRole('link', { name: nameB }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await settled(page);
    await expect.poll(() => page.getByRole('listitem', { name: `Calls: ${scenariosB.length}` }).count()).toBe(1);
    await look(page, 'operator-client-overview');

    await page.getByRole('link', { name: 'Operator console' }).click();
    await page.getByRole('navigation', { name: 'Operator sections' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await settled(page);
    for (const email of Object.values(users)) await expect.poll(() => page.getByRole('cell', { name: email }).count()).toBe(1);
    await look(page, 'operator-users');

    await page.getByRole('navigation', { name: 'Operator sections' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await look(page, 'operator-audit');

    // The account menu by keyboard: focus the button, open with Enter, pick Sign out.
    await page.getByRole('button', { name: /^Account menu/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Sign out' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await look(page, 'signed-out');
    await page.goto(`${server.baseUrl}/operator`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.close();
  });

  it('no page had a console error, a serious accessibility violation, or anything wider than a 375 px phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
