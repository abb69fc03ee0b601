/**
 * Accounts in a real browser against a real server on a fresh data folder (embedded database, no
 * users): first-run setup with the token from the server log. One server and one browser for
 * every case; each page is checked with axe-core and photographed at 375 px and desktop.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_ADMIN_HINT } from '../../src/auth/auth.routes.ts';
import { SETUP_TOKEN_PREFIX } from '../../src/auth/first-run.ts';
import { freePort } from '../helpers/processes.ts';
import { tempDir, testClientConfig, writeClientFile } from '../helpers/test-app.ts';
import { clearSession, ensureBundle, launchBrowser, pageChecks, settled, startServer, type ServerProcess } from './browser-harness.ts';

describe('accounts in a browser, from a fresh install', () => {
  let server: ServerProcess;
  let browser: BrowserContext;
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser, {
    // Refusals these tests provoke on purpose (a wrong token, a spent one) are logged by Chromium as
    // failed resources; the pages' own answers to them are asserted instead.
    ignoreConsole: /Failed to load resource: the server responded with a status of 4(01|09)/,
  });
  const admin = { email: 'admin@fresh.example', password: 'correct-horse-battery-staple' };
  const owner = { email: 'owner@acme.example', password: 'owner-password-0001' };
  const clientId = 'acme-accounts';
  let dataDir: string;

  /** The newest sandbox email to `to` (MAIL_PROVIDER=sandbox keeps them in DATA_DIR/mail). */
  const linkMailedTo = async (to: string, path: string): Promise<string> => {
    const dir = join(dataDir, 'mail');
    let link: string | undefined;
    await expect
      .poll(() => {
        const mails = existsSync(dir) ? readdirSync(dir).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { to: string; text: string }) : [];
        link = mails.filter((m) => m.to === to).at(-1)?.text.match(new RegExp(`https?://\\S+${path}#token=[\\w.-]+`))?.[0];
        return link !== undefined;
      })
      .toBe(true);
    return link ?? '';
  };



  beforeAll(async () => {
    ensureBundle();
    const port = await freePort();
    const clientsDir = tempDir('accounts-clients-');
    writeClientFile(clientsDir, testClientConfig(clientId, { name: 'Acme Accounting' }));
    dataDir = tempDir('accounts-data-');
    // A fresh data folder: the embedded database starts empty, whatever DATABASE_URL the run has.
    server = await startServer({ DATA_DIR: dataDir, CLIENTS_DIR: clientsDir, PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, MAIL_PROVIDER: 'sandbox' }, port, {
      readyTimeoutMs: 150_000,
    });
    browser = await launchBrowser();
  }, 200_000);

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

  it('the operator invites a client admin by email; the link sets their password and signs them in to their client', async () => {
    const page = await newPage();
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/login`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clients' }).waitFor();
    await page.goto(`${server.baseUrl}/c/${clientId}/users`);
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await settled(page);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Role').selectOption('client_admin');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`Invitation sent to ${owner.email}`);
    await look(page, 'client-users');

    const link = await linkMailedTo(owner.email, '/accept-invite');
    expect(link.startsWith(`${server.baseUrl}/accept-invite#token=`)).toBe(true);
    await clearSession(page);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
    await expect.poll(() => page.locator('main').textContent()).toContain(clientId);
    expect(await page.getByLabel('Email').inputValue()).toBe(owner.email);
    await look(page, 'accept-invite');
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByLabel('Confirm password').fill(owner.password);
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(page.url()).toContain(`/c/${clientId}`);
    // The client admin sees Users, with themselves listed.
    await page.getByRole('navigation', { name: 'Client sections' }).getByRole('link', { name: 'Users' }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Users' }).textContent()).toContain(owner.email);

    // Used once: the same link now says so.
    await clearSession(page);
    await page.goto(`${server.baseUrl}/login`);
    await page.goto(link);
    await page.getByLabel('Password', { exact: true }).fill('another-password-01');
    await page.getByLabel('Confirm password').fill('another-password-01');
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('already accepted');
    await page.close();
  }, 60_000);

  it('forgotten password: the sign-in page asks for a reset email; its link sets a new password that signs in', async () => {
    const page = await newPage();
    await page.goto(`${server.baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${server.baseUrl}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await look(page, 'reset-request');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('a link is on its way');

    const link = await linkMailedTo(owner.email, '/reset-password');
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    await look(page, 'reset-choose');
    const reset = 'reset-password-0002';
    await page.getByLabel('New password').fill(reset);
    await page.getByLabel('Confirm password').fill(reset);
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your new password is set');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(reset);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.close();
  }, 90_000);

  it('no page had a console error, a serious accessibility violation, or anything wider than a 375 px phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
