/**
 * Accounts in a real browser against a real server on a fresh data folder (embedded database, no
 * users): first-run setup with the token from the server log. One server and one browser for
 * every case; each page is checked with axe-core and photographed at 375 px and desktop.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_ADMIN_HINT } from '../../src/auth/auth.routes.ts';
import { SETUP_TOKEN_PREFIX } from '../../src/auth/first-run.ts';
import { freePort } from '../helpers/processes.ts';
import { tempDir } from '../helpers/test-app.ts';
import { clearSession, ensureBundle, launchBrowser, screenshots, seriousViolations, settled, startServer, watchConsole, type ServerProcess } from './browser-harness.ts';

describe('accounts in a browser, from a fresh install', () => {
  let server: ServerProcess;
  let browser: BrowserContext;
  const consoleProblems: string[] = [];
  const a11y: string[] = [];
  const layout: string[] = [];
  const admin = { email: 'admin@fresh.example', password: 'correct-horse-battery-staple' };

  async function newPage(): Promise<Page> {
    const page = await browser.newPage();
    const problems = watchConsole(page);
    // Refusals these tests provoke on purpose (a wrong token, a spent one) are logged by Chromium as
    // failed resources; the pages' own answers to them are asserted instead.
    page.on('close', () => consoleProblems.push(...problems.filter((p) => !/Failed to load resource: the server responded with a status of 4(01|09)/.test(p))));
    return page;
  }

  async function look(page: Page, name: string): Promise<void> {
    await settled(page);
    a11y.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
    layout.push(...(await screenshots(page, name)).map((v) => `${name} at 375 px: ${v}`));
  }

  beforeAll(async () => {
    ensureBundle();
    const port = await freePort();
    // A fresh data folder: the embedded database starts empty, whatever DATABASE_URL the run has.
    server = await startServer({ DATA_DIR: tempDir('accounts-data-'), CLIENTS_DIR: tempDir('accounts-clients-'), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, port);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('first run: the sign-in page sends the first visitor to setup; the token from the log creates the admin, once', async () => {
    const line = server.output().split('\n').find((l) => l.includes(FIRST_ADMIN_HINT)) ?? '';
    expect(line).toContain(`${server.baseUrl}/setup`);
    const token = new RegExp(`${SETUP_TOKEN_PREFIX}[\\w-]+`).exec(line)?.[0] ?? '';
    expect(token).not.toBe('');

    const page = await newPage();
    await page.goto(`${server.baseUrl}/`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('heading', { level: 1, name: 'Set up XLNC Perception' }).waitFor();
    await look(page, 'first-run-setup');

    await page.getByLabel('Setup token').fill('xst_not-the-token');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Confirm password').fill(admin.password);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the setup token');
    await look(page, 'first-run-setup-wrong-token');

    await page.getByLabel('Setup token').fill(token);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
    await settled(page);
    expect(page.url()).toContain('/operator');

    // Spent: the same token is refused, and the sign-in page is the way in now.
    const again = await fetch(`${server.baseUrl}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ setup_token: token, email: 'intruder@fresh.example', password: admin.password }),
    });
    expect(again.status).toBe(409);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/setup`);
    await page.getByLabel('Setup token').fill(token);
    await page.getByLabel('Email').fill('intruder@fresh.example');
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Confirm password').fill(admin.password);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('already set up');
    await page.getByRole('alert').getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.close();
  }, 60_000);

  it('no page had a console error, a serious accessibility violation, or anything wider than a 375 px phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
