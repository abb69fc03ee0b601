/**
 * Appointments and customers in a real browser against a real server process: after simulated
 * calls that book, a client admin reschedules then cancels an appointment through the dialogs
 * (by keyboard), the API shows each change; a viewer sees no controls; the customers page lists
 * the caller and its detail shows the call and the appointment. axe and 375 px / desktop
 * screenshots (.tmp/screenshots) on every page and open dialog.
 */
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { formatPhone } from '../../web/src/lib/format.ts';
import { freePort } from '../helpers/processes.ts';
import { agentFor, retellKeyFor } from '../helpers/retell.ts';
import { migratedDataDir, tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';
import { dropSchema, TEST_DATABASE_URL } from '../helpers/test-db.ts';
import { clearSession, createUserWithCli, ensureBundle, launchBrowser, pageChecks, settled, startServer, type ServerProcess } from './browser-harness.ts';

const QUEUE_SCHEMA = `pgboss_appts_${randomBytes(4).toString('hex')}`;
const TIMEZONE = 'America/New_York';

interface AppointmentJson {
  id: string;
  call_id: string | null;
  starts_at: string;
  status: string;
  customer_phone: string | null;
}

describe('appointments and customers in a browser', () => {
  const client = uniqueId('web-appt');
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const admin = `admin-${randomBytes(4).toString('hex')}@example.test`;
  const viewer = `viewer-${randomBytes(4).toString('hex')}@example.test`;
  const callers = ['+14155552001', '+14155552002'];
  const callIds = callers.map((_, i) => `call_appt_${client.replaceAll('-', '')}_${i}`);
  let server: ServerProcess;
  let browser: BrowserContext;
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser, { screenshotPrefix: 'appointments-' });
  let adminToken: string;

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.headers ?? {}) } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const appointmentOf = async (callId: string): Promise<AppointmentJson> => {
    const list = (await api(`/api/clients/${client}/appointments?limit=200`)).body.data as AppointmentJson[];
    const found = list.find((a) => a.call_id === callId);
    if (!found) throw new Error(`no appointment for ${callId}`);
    return found;
  };



  async function signIn(page: Page, email: string): Promise<void> {
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/c/${client}`));
  }

  beforeAll(async () => {
    ensureBundle();
    const clientsDir = tempDir('appt-clients-');
    writeClientFile(clientsDir, testClientConfig(client, { name: 'Acme Tax Office', timezone: TIMEZONE, calendar: { provider: 'internal', appointment_minutes: 30, min_notice_minutes: 0, horizon_days: 14 } }));
    const env: Record<string, string> = {
      DATA_DIR: migratedDataDir('appt-data-'),
      CLIENTS_DIR: clientsDir,
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, QUEUE_SCHEMA } : {}),
    };
    await createUserWithCli(env, { email: admin, password, role: 'client_admin', clientId: client });
    await createUserWithCli(env, { email: viewer, password, role: 'client_viewer', clientId: client });
    const port = await freePort();
    env.PUBLIC_BASE_URL = `http://127.0.0.1:${port}`;
    server = await startServer(env, port, { readyTimeoutMs: 120_000 });
    for (const [i, customerNumber] of callers.entries()) {
      await simulateCall({ baseUrl: server.baseUrl, clientId: client, apiKey: retellKeyFor(client), agentId: agentFor(client), scenario: 'booked', callId: callIds[i], customerNumber });
    }
    const login = await fetch(`${server.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: admin, password }) });
    adminToken = ((await login.json()) as { access_token: string }).access_token;
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await dropSchema(QUEUE_SCHEMA);
  });

  it('an admin reschedules, then cancels, through keyboard-operable dialogs; the API shows each change', async () => {
    const before = await appointmentOf(callIds[0] ?? '');
    expect(before.status).toBe('booked');
    // A day with a free time other than the current one (the simulator booked the first slot offered).
    let day = before.starts_at.slice(0, 10);
    let target: string | undefined;
    for (let i = 0; i < 14 && !target; i++) {
      const date = new Date(Date.parse(`${before.starts_at.slice(0, 10)}T12:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
      const slots = (await api(`/api/clients/${client}/appointments/free-slots?date=${date}`)).body.slots as { start: string }[];
      const free = slots.find((s) => Date.parse(s.start) !== Date.parse(before.starts_at));
      if (free) {
        day = date;
        target = free.start;
      }
    }
    expect(target).toBeDefined();

    const page = await newPage();
    await signIn(page, admin);
    await page.goto(`${server.baseUrl}/c/${client}/appointments`);
    await settled(page);
    const row = page.getByRole('row').filter({ hasText: formatPhone(callers[0] ?? '') });
    await expect.poll(() => row.getByRole('button', { name: /^Reschedule/ }).count()).toBe(1);
    await look(page, 'admin');

    // Reschedule, by keyboard: focus the button, Enter opens the dialog, Escape closes it and focus comes back.
    const rescheduleButton = row.getByRole('button', { name: /^Reschedule/ });
    await rescheduleButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Reschedule' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await rescheduleButton.evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByLabel('Day').fill(day);
    const timeLabel = new Intl.DateTimeFormat('en-US', { timeZone: TIMEZONE, hour: 'numeric', minute: '2-digit' }).format(new Date(target ?? ''));
    const radio = dialog.getByRole('radio', { name: timeLabel, exact: true });
    await radio.waitFor();
    await look(page, 'reschedule-dialog');
    await radio.focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => Date.parse((await appointmentOf(callIds[0] ?? '')).starts_at)).toBe(Date.parse(target ?? ''));

    // Cancel: the confirmation is an alert dialog; "Keep it" changes nothing, the action cancels.
    const cancelButton = row.getByRole('button', { name: /^Cancel the appointment/ });
    await cancelButton.focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('alertdialog', { name: 'Cancel this appointment?' });
    await confirm.waitFor();
    await look(page, 'cancel-dialog');
    // Focus starts on the safe choice.
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    expect((await appointmentOf(callIds[0] ?? '')).status).toBe('booked');
    await cancelButton.focus();
    await page.keyboard.press('Enter');
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Cancel appointment' }).click();
    await confirm.waitFor({ state: 'detached' });
    await expect.poll(async () => (await appointmentOf(callIds[0] ?? '')).status).toBe('cancelled');
    // The list shows it cancelled, without controls any more.
    await expect.poll(() => row.getByText('Cancelled').count()).toBe(1);
    expect(await row.getByRole('button').count()).toBe(0);
    await page.close();
  }, 90_000);

  it('a viewer sees the appointments without any control', async () => {
    const page = await newPage();
    await signIn(page, viewer);
    await page.goto(`${server.baseUrl}/c/${client}/appointments`);
    await settled(page);
    const booked = page.getByRole('row').filter({ hasText: formatPhone(callers[1] ?? '') });
    await booked.waitFor();
    expect(await booked.getByText('Booked').count()).toBe(1);
    expect(await page.getByRole('button', { name: /^(Reschedule|Cancel)/ }).count()).toBe(0);
    await look(page, 'viewer');
    await page.close();
  }, 60_000);

  it('the customers page lists the caller; its detail shows the call and the appointment', async () => {
    const page = await newPage();
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Customers' }).click();
    await settled(page);
    const link = page.getByRole('link', { name: formatPhone(callers[0] ?? ''), exact: true });
    await link.waitFor();
    await look(page, 'customers');
    await page.getByRole('searchbox', { name: 'Search' }).fill(callers[1]?.slice(-4) ?? '');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('link', { name: formatPhone(callers[0] ?? ''), exact: true }).count()).toBe(0);
    await page.getByRole('link', { name: formatPhone(callers[1] ?? ''), exact: true }).waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await link.click();
    await page.getByRole('heading', { name: 'Calls' }).waitFor();
    await settled(page);
    const calls = page.getByRole('region', { name: 'Calls' });
    const appointments = page.getByRole('region', { name: 'Appointments' });
    expect(await calls.getByRole('row').count()).toBe(2);
    expect(await appointments.getByText('Cancelled').count()).toBe(1);
    // One call and one appointment read in the singular ("1 calls" before formatCountOf).
    await page.getByText(/ · 1 call · 1 appointment · \d+ messages?$/).waitFor();
    await look(page, 'customer-detail');
    await calls.getByRole('link').first().click();
    await page.waitForURL(new RegExp(`/calls/${callIds[0]}`));
    await page.close();
  }, 60_000);

  it('no console errors, no serious or critical axe violation, nothing wider than a phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
