/**
 * The settings page in a real browser against a real server process, for a database-backed client
 * (created by the operator through the admin API) and a file-backed one. A client admin edits
 * business hours, a template (with its live preview), the notification address and a feature
 * switch; bad values are shown beside their field (aria-invalid) and in the summary; the save is
 * audited; the next simulated Retell call gets the new values (the hours in call_inbound's dynamic
 * variables, the new template in the confirmation text, the summary email to the new address). A
 * stale version answers 409 with a Reload; a secret is replaced without the page or any API answer
 * ever holding the old or new value (the Retell key is not offered to a client admin); a viewer and a
 * file-backed client see the settings read-only. Branding is edited with a live swatch. The account
 * page: a password change and "sign out everywhere" end every session, another device's included.
 * axe-core and 375 px / desktop screenshots (.tmp/screenshots) of every state.
 */
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { freePort } from '../helpers/processes.ts';
import { agentFor, retellKeyFor } from '../helpers/retell.ts';
import { migratedDataDir, tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';
import { dropSchema, TEST_DATABASE_URL } from '../helpers/test-db.ts';
import { clearSession, createUserWithCli, ensureBundle, launchBrowser, pageChecks, settled, startServer, type ServerProcess } from './browser-harness.ts';

declare const document: { activeElement: unknown };
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string };

const QUEUE_SCHEMA = `pgboss_settings_${randomBytes(4).toString('hex')}`;
const TIMEZONE = 'America/New_York';
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const OLD_SMS_TOKEN = `twilio_token_${randomBytes(6).toString('hex')}_old1`;
const NEW_SMS_TOKEN = `twilio_token_${randomBytes(6).toString('hex')}_new2`;
/** The file-backed client's portal host: another client asking for it is refused. */
const TAKEN_HOST = 'portal.filed-dental.test';
const CONFIRMATION = '{{business_name}}: {{customer_name}}, you are booked for {{appointment_time}}. Ask for Sam at the desk.';

interface MessageJson {
  call_id: string | null;
  channel: string;
  kind: string;
  to_address: string;
  body: string;
}

describe('the settings page in a browser', () => {
  const client = uniqueId('web-set');
  const fileClient = uniqueId('web-setf');
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const users = {
    operator: `operator-${randomBytes(4).toString('hex')}@example.test`,
    admin: `admin-${randomBytes(4).toString('hex')}@example.test`,
    viewer: `viewer-${randomBytes(4).toString('hex')}@example.test`,
    /** For the account page: its password changes. */
    account: `account-${randomBytes(4).toString('hex')}@example.test`,
  };
  const newAddress = `frontdesk-${randomBytes(3).toString('hex')}@harbor.example`;
  let server: ServerProcess;
  let browser: BrowserContext;
  let operatorToken = '';
  let adminToken = '';
  // The 400, 401 (a wrong current password) and 409 this test provokes on purpose are logged by Chromium as failed resources;
  // the page's own answer to them is asserted instead.
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser, {
    screenshotPrefix: 'settings-',
    ignoreConsole: /Failed to load resource: the server responded with a status of 4(00|01|09)/,
  });

  const login = async (email: string): Promise<string> => {
    const res = await fetch(`${server.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const api = async (token: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) } });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const versionNow = async (): Promise<number> => (await api(adminToken, `/api/clients/${client}/settings/editable`)).body.version as number;

  async function signIn(page: Page, email: string, secret = password): Promise<void> {
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/(c|operator)(\/|$)/);
  }

  async function openSettings(page: Page, clientId: string): Promise<void> {
    await page.goto(`${server.baseUrl}/c/${clientId}/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await settled(page);
  }

  const form = (page: Page) => page.getByRole('form', { name: 'Edit settings' });
  const saveAndWait = async (page: Page) => {
    await form(page).getByRole('button', { name: 'Save changes' }).click();
    await form(page).getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  };
  const messagesOf = async (callId: string): Promise<MessageJson[]> =>
    ((await api(adminToken, `/api/clients/${client}/messages?limit=200`)).body.data as MessageJson[]).filter((m) => m.call_id === callId);

  beforeAll(async () => {
    ensureBundle();
    const clientsDir = tempDir('settings-clients-');
    writeClientFile(clientsDir, testClientConfig(fileClient, { name: 'Filed Dental', timezone: TIMEZONE, branding: { custom_host: TAKEN_HOST } }));
    const env: Record<string, string> = {
      DATA_DIR: migratedDataDir('settings-data-'),
      CLIENTS_DIR: clientsDir,
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, QUEUE_SCHEMA } : {}),
    };
    const port = await freePort();
    env.PUBLIC_BASE_URL = `http://127.0.0.1:${port}`;
    server = await startServer(env, port, { readyTimeoutMs: 120_000 });
    await createUserWithCli(env, { email: users.operator, password, role: 'platform_admin' });
    operatorToken = await login(users.operator);
    // The database-backed client, as the operator's console creates it (its secrets sealed on the way in).
    const created = await api(operatorToken, '/api/admin/clients', {
      method: 'POST',
      body: JSON.stringify(
        testClientConfig(client, {
          name: 'Harbor Tax Office',
          timezone: TIMEZONE,
          notifications: { business_email: `owner@${client}.example` },
          calendar: { provider: 'internal', appointment_minutes: 30, min_notice_minutes: 0, horizon_days: 14 },
          sms: { provider: 'twilio', enabled: true, account_sid: `AC${'0'.repeat(32)}`, auth_token: OLD_SMS_TOKEN, from_number: '+14155550199' },
          email: { provider: 'sendgrid', enabled: true, api_key: 'SG.literal_key_for_tests_0123', from: `hello@${client}.example` },
        }),
      ),
    });
    expect(created.status, created.text).toBe(201);
    await Promise.all([
      createUserWithCli(env, { email: users.admin, password, role: 'client_admin', clientId: client }),
      createUserWithCli(env, { email: users.viewer, password, role: 'client_viewer', clientId: client }),
      createUserWithCli(env, { email: users.account, password, role: 'client_admin', clientId: client }),
    ]);
    adminToken = await login(users.admin);
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await dropSchema(QUEUE_SCHEMA);
  });

  it('a client admin edits hours, a template (live preview), the address and a switch; bad values are shown by their field; the save is audited and the next simulated call uses it', async () => {
    const page = await newPage();
    await signIn(page, users.admin);
    await openSettings(page, client);
    const edit = form(page);
    await edit.waitFor();
    await look(page, 'admin-form');

    // Business hours: every day 7:15 AM to 7:45 PM (Saturday and Sunday opened first).
    for (const day of DAYS) {
      const group = edit.getByRole('group', { name: day, exact: true });
      const open = group.getByRole('checkbox', { name: 'Open' });
      if (!(await open.isChecked())) await open.check();
      await group.getByLabel(`${day} opens`).fill('07:15');
      await group.getByLabel(`${day} closes`).fill('19:45');
    }

    // The template, with the server's rendering of it beside it as it is typed.
    const template = edit.getByLabel('Text after a booking', { exact: true });
    const preview = edit.getByRole('figure', { name: 'Preview: Text after a booking' });
    await expect.poll(() => preview.textContent()).toContain('Bring ID'); // the industry default
    await template.fill(CONFIRMATION.replace('{{customer_name}}', '{{nickname}}'));
    // What saving would refuse shows under the template as it is typed.
    await edit.getByText('unknown variable {{nickname}}').waitFor({ timeout: 10_000 });
    await template.fill(CONFIRMATION);
    await expect.poll(() => preview.textContent(), { timeout: 10_000 }).toContain('Harbor Tax Office: Jane Roe, you are booked for');
    expect(await preview.textContent()).toContain('Ask for Sam at the desk.');
    await look(page, 'template-preview');

    // A bad address: refused before sending, beside the field and in the summary.
    const address = edit.getByLabel('Send call summaries to');
    await address.fill('frontdesk-at-harbor');
    await edit.getByRole('switch', { name: 'Emails to callers' }).check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const summary = edit.getByRole('alert');
    await expect.poll(() => summary.textContent()).toContain('Nothing was saved');
    expect(await summary.textContent()).toContain('$.notifications.business_email');
    expect(await address.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await address.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy.split(' ').find((id) => id.endsWith('-error'))}"]`).textContent()).toContain('must be an email address');
    // Focus moves to the summary, so a screen reader hears it.
    expect(await edit.locator('.form-outcome').evaluate((el) => el === document.activeElement)).toBe(true);
    await look(page, 'field-error-local');

    // A problem only the server finds (an unknown template variable): its 400 is shown by path too.
    await address.fill(newAddress);
    await template.fill(`${CONFIRMATION} {{nickname}}`);
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => summary.textContent()).toContain('$.templates.sms.confirmation');
    expect(await template.getAttribute('aria-invalid')).toBe('true');
    expect(await address.getAttribute('aria-invalid')).toBeNull();
    await look(page, 'field-error-server');
    const unsaved = await api(adminToken, `/api/clients/${client}/settings`);
    expect(JSON.stringify(unsaved.body)).not.toContain(newAddress);

    await template.fill(CONFIRMATION);
    await saveAndWait(page);
    expect(await template.getAttribute('aria-invalid')).toBeNull();
    await look(page, 'saved');

    // Audited: who, and what changed.
    const audit = await api(operatorToken, `/api/admin/audit?client_id=${client}&action=client.update`);
    const entry = (audit.body.items as { actor: string; diff: { changes: { path: string; to?: unknown }[] } }[])[0];
    expect(entry?.actor).toBe(users.admin);
    const changed = Object.fromEntries((entry?.diff.changes ?? []).map((c) => [c.path, c.to]));
    expect(changed).toMatchObject({
      '$.business_hours.sat': ['07:15-19:45'],
      '$.business_hours.mon': ['07:15-19:45'],
      '$.notifications.business_email': newAddress,
      // The client had no templates block: it is recorded whole.
      '$.templates': { sms: { confirmation: CONFIRMATION } },
      '$.features.caller_email': true,
    });

    // The next call gets it: the hours in call_inbound's answer, the template in the confirmation
    // text, the call summary to the new address.
    const callId = `call_settings_${client.replaceAll('-', '')}`;
    const steps = await simulateCall({ baseUrl: server.baseUrl, clientId: client, apiKey: retellKeyFor(client), agentId: agentFor(client), scenario: 'booked', callId });
    const inbound = steps.find((s) => s.label === 'call_inbound')?.body as { call_inbound: { dynamic_variables: Record<string, string> } };
    expect(inbound.call_inbound.dynamic_variables.hours_today).toBe('7:15 AM to 7:45 PM');
    expect(steps.find((s) => s.label === 'function book_appointment')?.status).toBe(200);
    await expect.poll(async () => (await messagesOf(callId)).map((m) => m.kind).sort(), { timeout: 30_000 }).toEqual(expect.arrayContaining(['confirmation', 'summary']));
    const messages = await messagesOf(callId);
    const confirmation = messages.find((m) => m.kind === 'confirmation');
    expect(confirmation?.body).toMatch(/^Harbor Tax Office: Jane Roe, you are booked for .+\. Ask for Sam at the desk\.$/);
    expect(messages.find((m) => m.kind === 'summary')?.to_address).toBe(newAddress);
    await page.close();
  }, 150_000);

  it('branding: bad values by their field (a host another client holds: the 409 beside it, naming no client), a live swatch, saved and worn by the header at once', async () => {
    const page = await newPage();
    await signIn(page, users.admin);
    await openSettings(page, client);
    const section = page.getByRole('region', { name: 'Branding' });
    const displayName = section.getByLabel('Display name');
    const logo = section.getByLabel('Logo URL');
    const colorText = section.getByLabel('Primary color', { exact: true });
    const host = section.getByLabel('Custom host (optional)');
    const swatch = section.getByRole('figure', { name: 'Preview: branding' });
    const sample = swatch.getByText('Sign in', { exact: true });
    const colors = () => sample.evaluate((el) => {
      const style = getComputedStyle(el);
      return { background: style.backgroundColor, color: style.color };
    });

    await displayName.fill('Harbor Books');
    await expect.poll(() => swatch.textContent()).toContain('Harbor Books');
    // Gold takes dark text (white on it reads at 1.4:1), as the server derives it; teal takes white.
    await colorText.fill('#FFD700');
    await expect.poll(colors).toEqual({ background: 'rgb(255, 215, 0)', color: 'rgb(15, 23, 42)' });
    expect(await section.getByLabel('Pick the primary color').inputValue()).toBe('#ffd700');
    await section.getByLabel('Pick the primary color').fill('#0f766e');
    expect(await colorText.inputValue()).toBe('#0f766e');
    await expect.poll(colors).toEqual({ background: 'rgb(15, 118, 110)', color: 'rgb(255, 255, 255)' });
    await look(page, 'branding-preview');

    // Bad values: refused before sending, each beside its field and in the summary.
    await colorText.fill('teal');
    await logo.fill('http://cdn.example.com/logo.png');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const summary = form(page).getByRole('alert');
    await expect.poll(() => summary.textContent()).toContain('$.branding.primary_color');
    expect(await summary.textContent()).toContain('$.branding.logo_url');
    expect(await colorText.getAttribute('aria-invalid')).toBe('true');
    expect(await logo.getAttribute('aria-invalid')).toBe('true');
    expect(await section.textContent()).toContain('must be a color like #0f766e');
    expect(await section.textContent()).toContain('must be an https:// URL');
    await look(page, 'branding-field-errors');

    // The server's 409: the host is another client's. Shown beside the field, the other client unnamed.
    await colorText.fill('#0f766e');
    await logo.fill('');
    await host.fill(TAKEN_HOST);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => summary.textContent()).toContain(`${TAKEN_HOST} is already used by another client`);
    expect(await host.getAttribute('aria-invalid')).toBe('true');
    const hostError = (await host.getAttribute('aria-describedby'))?.split(' ').find((id) => id.endsWith('-error'));
    expect(await page.locator(`[id="${hostError}"]`).textContent()).toContain('already used by another client');
    expect(await page.content()).not.toContain(fileClient);
    expect(await summary.textContent()).not.toContain('Someone changed these settings');
    await look(page, 'branding-host-taken');

    const ownHost = `portal.${client}.test`;
    await host.fill(ownHost.toUpperCase());
    await saveAndWait(page);
    // The header wears the new brand without a reload.
    await page.getByRole('banner').getByRole('link', { name: 'Harbor Books', exact: true }).waitFor({ timeout: 10_000 });
    const brand = await api(adminToken, `/api/clients/${client}/branding`);
    expect(brand.body.brand).toMatchObject({ display_name: 'Harbor Books', primary_color: '#0f766e', on_primary_color: '#ffffff', logo_url: null });
    expect((await api(adminToken, `/api/clients/${client}/settings`)).body.config).toMatchObject({ branding: { display_name: 'Harbor Books', primary_color: '#0f766e', custom_host: ownHost } });
    await look(page, 'branding-saved');
    await page.close();
  }, 90_000);

  it('a stale version: the save is refused (409) with a Reload that shows the other change; saving again works', async () => {
    const page = await newPage();
    await signIn(page, users.admin);
    await openSettings(page, client);
    const edit = form(page);
    // Someone else saves meanwhile.
    const other = await api(adminToken, `/api/clients/${client}/settings`, { method: 'PATCH', body: JSON.stringify({ version: await versionNow(), changes: { holidays: ['2031-07-04'] } }) });
    expect(other.status).toBe(200);

    await edit.getByLabel('Add a holiday').fill('2031-12-26');
    await edit.getByRole('button', { name: 'Add', exact: true }).click();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const alert = edit.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Someone changed these settings');
    await look(page, 'conflict');
    expect((await api(adminToken, `/api/clients/${client}/settings`)).body.config).toMatchObject({ holidays: ['2031-07-04'] });

    await alert.getByRole('button', { name: 'Reload settings' }).click();
    await edit.getByRole('button', { name: 'Remove holiday 2031-07-04' }).waitFor();
    expect(await edit.getByRole('button', { name: 'Remove holiday 2031-12-26' }).count()).toBe(0);
    await edit.getByLabel('Add a holiday').fill('2031-12-26');
    await edit.getByRole('button', { name: 'Add', exact: true }).click();
    await saveAndWait(page);
    expect((await api(adminToken, `/api/clients/${client}/settings`)).body.config).toMatchObject({ holidays: ['2031-07-04', '2031-12-26'] });
    await page.close();
  }, 90_000);

  it('a secret is replaced write-only: neither the page nor any API answer holds the old or the new value', async () => {
    const page = await newPage();
    const answers: Promise<string>[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/api/')) answers.push(response.text().catch(() => ''));
    });
    await signIn(page, users.admin);
    await openSettings(page, client);
    const edit = form(page);
    expect(await edit.textContent()).toContain(`••••${OLD_SMS_TOKEN.slice(-4)}`);
    // The Retell key verifies the platform's webhooks: a platform admin's to replace, not offered here.
    expect(await edit.getByRole('button', { name: 'Replace Retell API key' }).count()).toBe(0);
    expect(await edit.textContent()).toContain('only your platform operator replaces it');
    await edit.getByRole('button', { name: 'Replace Twilio auth token' }).click();
    const field = edit.getByLabel('New Twilio auth token');
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill(NEW_SMS_TOKEN);
    await look(page, 'secret-replace');
    await saveAndWait(page);
    await expect.poll(() => edit.textContent()).toContain(`••••${NEW_SMS_TOKEN.slice(-4)}`);
    expect(await edit.getByLabel('New Twilio auth token').count()).toBe(0);
    await look(page, 'secret-replaced');

    const html = await page.content();
    const settingsAnswer = (await api(adminToken, `/api/clients/${client}/settings`)).text;
    const audit = (await api(operatorToken, `/api/admin/audit?client_id=${client}`)).text;
    const bodies = await Promise.all(answers);
    expect(bodies.some((b) => b.includes('"version"'))).toBe(true); // the PATCH answer was seen
    for (const secret of [OLD_SMS_TOKEN, NEW_SMS_TOKEN]) {
      expect(html).not.toContain(secret);
      expect(settingsAnswer).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(bodies.filter((b) => b.includes(secret))).toEqual([]);
      expect(server.output()).not.toContain(secret);
    }
    await page.close();
  }, 90_000);

  it('a viewer sees the settings read-only: no form, no control to change them', async () => {
    const page = await newPage();
    await signIn(page, users.viewer);
    await openSettings(page, client);
    await page.getByText('These settings are read-only for your role').waitFor();
    expect(await form(page).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Save changes|Replace|Add)/ }).count()).toBe(0);
    expect(await page.getByRole('textbox').count()).toBe(0);
    const hours = page.getByRole('table', { name: 'Opening hours by day' });
    expect(await hours.getByRole('row', { name: /Saturday/ }).textContent()).toContain('07:15 – 19:45');
    expect(await page.getByRole('main').textContent()).toContain(newAddress);
    await look(page, 'viewer');
    await page.close();
  }, 60_000);

  it('a file-backed client is shown read-only with the file to edit; the operator may replace a database client’s Retell key', async () => {
    const page = await newPage();
    await signIn(page, users.operator);
    await openSettings(page, client);
    await form(page).getByRole('button', { name: 'Replace Retell API key' }).waitFor();
    await openSettings(page, fileClient);
    const note = page.getByText('These settings are read-only here');
    await note.waitFor();
    expect(await note.textContent()).toContain(`${fileClient}.json`);
    expect(await form(page).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Save changes|Replace)/ }).count()).toBe(0);
    await look(page, 'file-client');
    await page.close();
  }, 60_000);

  it('the account page: a password change and "sign out everywhere" each end every session, another device’s included', async () => {
    /** Another device: a session made through the API, checked by its access and refresh tokens. */
    const otherDevice = async (secret: string) => {
      const res = await fetch(`${server.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: users.account, password: secret }) });
      expect(res.status).toBe(200);
      return (await res.json()) as { access_token: string; refresh_token: string };
    };
    const stillSignedIn = async (device: { access_token: string; refresh_token: string }) => {
      const me = await fetch(`${server.baseUrl}/api/auth/me`, { headers: { authorization: `Bearer ${device.access_token}` } });
      const refresh = await fetch(`${server.baseUrl}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: device.refresh_token }) });
      return { me: me.status, refresh: refresh.status };
    };
    const loginStatus = async (secret: string) =>
      (await fetch(`${server.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: users.account, password: secret }) })).status;
    const openAccount = async (page: Page) => {
      await page.getByRole('button', { name: /^Account menu for/ }).click();
      await page.getByRole('menuitem', { name: 'Your account' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    };

    const phone = await otherDevice(password);
    expect(await stillSignedIn(phone)).toEqual({ me: 200, refresh: 200 });
    const page = await newPage();
    await signIn(page, users.account);
    await openAccount(page);
    expect(await page.getByRole('main').textContent()).toContain(users.account);
    await look(page, 'account');

    const current = page.getByLabel('Current password');
    const next = page.getByLabel('New password', { exact: true });
    const confirm = page.getByLabel('Confirm new password');
    const changed = `pw-new-${randomBytes(6).toString('base64url')}`;
    // A mistyped confirmation is caught on the page; a wrong current password by the server, each by its field.
    await current.fill(password);
    await next.fill(changed);
    await confirm.fill(`${changed}x`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => next.getAttribute('aria-invalid')).toBe('true');
    await current.fill('not-my-password-1');
    await confirm.fill(changed);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => current.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('main').textContent()).toContain('That is not your current password.');
    await look(page, 'account-wrong-password');
    expect(await loginStatus(password)).toBe(200);

    await current.fill(password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your password was changed and every device signed out');
    await look(page, 'account-password-changed');
    // Every session ended, the other device's too; only the new password signs in.
    expect(await stillSignedIn(phone)).toEqual({ me: 401, refresh: 401 });
    expect(await loginStatus(password)).toBe(401);

    const laptop = await otherDevice(changed);
    await signIn(page, users.account, changed);
    await openAccount(page);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('You are signed out on every device.');
    expect(await stillSignedIn(laptop)).toEqual({ me: 401, refresh: 401 });
    // This tab too: a signed-in page sends it to sign in.
    await page.goto(`${server.baseUrl}/c/${client}/settings`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await loginStatus(changed)).toBe(200);
    await page.close();
  }, 90_000);

  it('no console errors, no serious or critical axe violation, nothing wider than a phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
