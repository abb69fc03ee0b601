/**
 * Outbound webhooks in a real browser: a client admin adds a webhook to a local HTTPS receiver
 * (the secret shown once), a simulated call sends its events there, the delivery log shows them
 * delivered (2xx) and one is replayed; a viewer reads the pages without any control to change them
 * and the API refuses their change (403). The app runs in this process (its SSRF guard lets only
 * the loopback receiver through, a seam the server process does not have); one app, one browser.
 * Every page is checked with axe-core and photographed at 375 px and desktop (.tmp/screenshots).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORK_OPTIONS, startWorkers } from '../../src/core/dispatch.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { simulateCall } from '../../src/webhooks/retell/call-simulator.ts';
import { loginAs, type TestUser } from '../helpers/auth.ts';
import { selfSignedCertificate, startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.ts';
import { agentFor, retellKeyFor } from '../helpers/retell.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { dropSchema } from '../helpers/test-db.ts';
import { clearSession, ensureBundle, launchBrowser, pageChecks } from './browser-harness.ts';

const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));
const tls = selfSignedCertificate();

describe.skipIf(!tls)('outbound webhooks in a browser (skipped: needs the openssl CLI)', () => {
  const clientId = uniqueId('web-hooks');
  const queueSchema = `pgboss_hooks_${randomBytes(4).toString('hex')}`;
  let t: TestApp;
  let baseUrl = '';
  let receiver: HttpsReceiver;
  let browser: BrowserContext;
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser);
  let admin: TestUser;
  let viewer: TestUser;
  let secret = '';



  async function signIn(page: Page, user: TestUser): Promise<void> {
    await page.goto(`${baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  }

  beforeAll(async () => {
    ensureBundle();
    receiver = await startHttpsReceiver(tls!);
    const dir = tempDir('hooks-clients-');
    writeClientFile(dir, testClientConfig(clientId, { name: 'Hooks Plumbing', business_hours: ALWAYS_OPEN, calendar: { provider: 'internal', min_notice_minutes: 0 } }));
    t = await createTestApp({ clientsDir: dir, queueSchema, outbound: { allowAddress: (ip) => ip === '127.0.0.1', ca: tls!.cert } });
    await startWorkers(t.deps, JOB_CATALOGUE, DEFAULT_WORK_OPTIONS);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    admin = await loginAs(t, 'client_admin', clientId);
    viewer = await loginAs(t, 'client_viewer', clientId);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await dropSchema(queueSchema);
    await receiver?.close();
  });

  it('a client admin adds a webhook (secret shown once), a simulated call reaches the receiver, the log shows it delivered, one is replayed', async () => {
    const page = await newPage();
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByText('No webhooks yet').waitFor();
    await look(page, 'webhooks-empty');

    // By keyboard: open the dialog, fill the form, submit.
    await page.getByRole('button', { name: 'Add webhook' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add a webhook' });
    await dialog.getByLabel('Endpoint URL').fill(`${receiver.origin}/hooks/crm`);
    await dialog.getByLabel('Description (optional)').fill('Our CRM');
    for (const type of ['call.started', 'appointment.booked', 'call.completed']) await dialog.getByRole('checkbox', { name: type }).check();
    await look(page, 'webhooks-create-dialog');
    await dialog.getByRole('button', { name: 'Add webhook' }).press('Enter');
    const shown = dialog.getByLabel('Signing secret');
    await shown.waitFor();
    secret = (await shown.textContent()) ?? '';
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await look(page, 'webhooks-secret-once');
    await page.keyboard.press('Escape');
    await page.getByRole('cell', { name: /hooks\/crm/ }).first().waitFor();
    // Shown once: the list (and its API answer) carry only the last characters.
    expect(await page.locator('main').textContent()).not.toContain(secret);
    expect(await page.locator('main').textContent()).toContain(`Secret ••••${secret.slice(-4)}`);

    await simulateCall({ baseUrl, clientId, apiKey: retellKeyFor(clientId), agentId: agentFor(clientId), scenario: 'booked' });
    await expect.poll(() => receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type).sort(), { timeout: 30_000 }).toEqual(['appointment.booked', 'call.completed', 'call.started']);
    // Signed with the secret the page showed (the official verifier).
    for (const request of receiver.received) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
    await page.reload();
    await page.getByText('None yet').waitFor({ state: 'detached', timeout: 15_000 });
    await look(page, 'webhooks-list');

    await page.getByRole('link', { name: /Delivery log of/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Delivery log' }).waitFor();
    const rows = page.getByRole('table', { name: 'Deliveries' }).getByRole('row');
    await expect.poll(async () => (await rows.filter({ hasText: 'Delivered' }).filter({ hasText: 'HTTP 204' }).count()), { timeout: 15_000 }).toBe(3);
    await look(page, 'webhook-deliveries');

    // Replay the call.started delivery: the receiver gets it again, with the same webhook-id.
    const first = receiver.received.find((r) => (JSON.parse(r.body) as { type: string }).type === 'call.started')!;
    await page.getByRole('button', { name: /^Replay call\.started/ }).click();
    await expect.poll(() => receiver.received.filter((r) => r.headers['webhook-id'] === first.headers['webhook-id']).length, { timeout: 15_000 }).toBe(2);

    // Delete asks first (a Radix alert dialog); Escape cancels and nothing is deleted.
    await page.getByRole('link', { name: 'Webhooks' }).first().click();
    await page.getByRole('button', { name: /^Delete https:/ }).click();
    await page.getByRole('alertdialog', { name: 'Delete this webhook?' }).waitFor();
    await look(page, 'webhooks-delete-confirm');
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect((await t.app.inject({ method: 'GET', url: `/api/clients/${clientId}/webhook-subscriptions`, headers: { authorization: `Bearer ${admin.accessToken}` } })).json().items).toHaveLength(1);
    await page.close();
  }, 120_000);

  it('a viewer reads the webhooks and their log, with no control to change them; the API refuses the change (403)', async () => {
    const page = await newPage();
    await signIn(page, viewer);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('cell', { name: /hooks\/crm/ }).first().waitFor();
    for (const name of [/^Add webhook$/, /^Edit /, /^Rotate /, /^Disable /, /^Delete /]) expect(await page.getByRole('button', { name }).count()).toBe(0);
    await look(page, 'webhooks-viewer');
    await page.getByRole('link', { name: /Delivery log of/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Delivery log' }).waitFor();
    await page.getByRole('table', { name: 'Deliveries' }).waitFor();
    expect(await page.getByRole('button', { name: /^Replay/ }).count()).toBe(0);
    await look(page, 'webhook-deliveries-viewer');
    const refused = await fetch(`${baseUrl}/api/clients/${clientId}/webhook-subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.origin}/viewer`, event_types: ['call.started'] }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    await page.close();
  }, 60_000);

  it('no serious accessibility problem, nothing wider than a phone, no console error', () => {
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
    expect(consoleProblems).toEqual([]);
  });
});
