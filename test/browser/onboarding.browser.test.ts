/**
 * The console's "Add client" wizard in a real browser against a real server and a local fake of
 * Retell's management API: the operator fills in the wizard, watches each check, the client is
 * provisioned in Retell and saved (database), appears in the list, and "Doctor" finds no drift.
 * A wrong Retell key first: the named failure, nothing saved, nothing provisioned.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetellFake, type RetellFake } from '../fakes/retell-fake.ts';
import { freePort } from '../helpers/processes.ts';
import { migratedDataDir, tempDir, uniqueId } from '../helpers/test-app.ts';
import { clearSession, createUserWithCli, ensureBundle, launchBrowser, screenshots, seriousViolations, settled, startServer, watchConsole, type ServerProcess } from './browser-harness.ts';

describe('the Add client wizard in a browser', () => {
  let server: ServerProcess;
  let browser: BrowserContext;
  let retell: RetellFake;
  const env = { DATA_DIR: migratedDataDir('onb-web-data-'), CLIENTS_DIR: tempDir('onb-web-clients-') };
  const operator = { email: `op-${uniqueId('o')}@example.test`, password: 'correct-horse-battery-staple' };
  const clientId = uniqueId('sunny');
  const agentId = `agent_${clientId.replaceAll('-', '')}`;
  const apiKey = `key_${clientId.replaceAll('-', '_')}`;
  const problems: string[] = [];
  const a11y: string[] = [];
  const layout: string[] = [];

  /** Whether the element is inside the dialog's visible part (the dialog scrolls; the page does not). */
  async function shownInDialog(page: Page, name: string | RegExp): Promise<boolean> {
    const viewportHeight = page.viewportSize()?.height ?? 0;
    return page.getByRole('heading', { name }).evaluate((element, height) => {
      const box = element.getBoundingClientRect();
      const dialog = element.closest('[role="dialog"]')?.getBoundingClientRect();
      return dialog !== undefined && box.top >= dialog.top && box.bottom <= dialog.bottom && box.bottom <= height;
    }, viewportHeight);
  }

  async function look(page: Page, name: string): Promise<void> {
    await settled(page);
    a11y.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
    layout.push(...(await screenshots(page, name)).map((v) => `${name} at 375 px: ${v}`));
  }

  beforeAll(async () => {
    ensureBundle();
    retell = await startRetellFake();
    retell.addWorkspace({ apiKey, agents: [{ agent_id: agentId }], numbers: [{ phone_number: '+13105550160', agent_id: agentId }] });
    const port = await freePort();
    server = await startServer({ ...env, PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, port, { readyTimeoutMs: 120_000 });
    await createUserWithCli(env, { ...operator, role: 'platform_admin' });
    browser = await launchBrowser();
  }, 200_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await retell?.close();
  });

  it('onboards a client end to end: checks shown as they run, Retell provisioned, the client listed, doctor clean', async () => {
    const page = await browser.newPage();
    const consoleProblems = watchConsole(page);
    await page.goto(`${server.baseUrl}/`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(operator.email);
    await page.getByLabel('Password').fill(operator.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();

    await page.getByRole('button', { name: 'Add client' }).click();
    await page.getByRole('dialog', { name: 'Add a client' }).waitFor();
    await page.getByLabel('Client id').fill(clientId);
    await page.getByLabel('Business name').fill('Sunny Paws Vet');
    await page.getByLabel('Industry').selectOption('medical');
    await page.getByLabel('Retell API key').fill('key_wrong');
    await page.getByLabel('Agent ids (comma-separated)').fill(agentId);
    await page.getByLabel('Phone numbers (E.164, comma-separated)').fill('+13105550160');
    await page.getByLabel('Retell API base URL (optional)').fill(retell.url);
    await look(page, 'onboarding-wizard');

    // A wrong key: named, with its fix; nothing saved, nothing provisioned.
    await page.getByRole('button', { name: 'Verify and onboard' }).click();
    await page.getByRole('heading', { name: 'Not onboarded' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Retell rejected the API key');
    expect(await page.getByRole('list', { name: 'Checks' }).textContent()).toContain('Fail Retell API key');
    expect(retell.writes).toEqual([]);
    // The result is scrolled into view: not below the form, out of sight.
    expect(await shownInDialog(page, 'Not onboarded')).toBe(true);
    await look(page, 'onboarding-wizard-wrong-key');

    await page.getByLabel('Retell API key').fill(apiKey);
    await page.getByRole('button', { name: 'Verify and onboard' }).click();
    await page.getByRole('heading', { name: `${clientId} is onboarded` }).waitFor({ timeout: 30_000 });
    expect(await shownInDialog(page, `${clientId} is onboarded`)).toBe(true);
    const checks = await page.getByRole('list', { name: 'Checks' }).textContent();
    expect(checks).toContain('Pass Retell API key');
    expect(checks).toContain(`Pass Retell agent ${agentId}`);
    expect(await page.getByRole('status').filter({ hasText: 'Webhook URL' }).textContent()).toContain(`${server.baseUrl}/api/webhooks/retell/${clientId}`);
    expect(retell.workspace(apiKey).agents.get(agentId)?.webhook_url).toBe(`${server.baseUrl}/api/webhooks/retell/${clientId}`);
    expect(retell.workspace(apiKey).numbers.get('+13105550160')?.inbound_webhook_url).toBe(`${server.baseUrl}/api/webhooks/retell/${clientId}`);
    await look(page, 'onboarding-wizard-done');

    await page.getByRole('button', { name: 'Close' }).last().click();
    await page.getByRole('link', { name: 'Sunny Paws Vet' }).waitFor();
    await page.getByRole('button', { name: `Doctor for ${clientId}` }).click();
    await page.getByText('Drift: none, Retell matches.').waitFor({ timeout: 30_000 });
    await look(page, 'onboarding-doctor');
    problems.push(...consoleProblems.filter((p) => !/status of 4\d\d/.test(p)));
    await page.close();

    expect(problems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  }, 120_000);
});
