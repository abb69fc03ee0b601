/**
 * White-label in a real browser: Chromium maps the client's custom host to the local server, so
 * the page is requested with that Host. Its sign-in page wears the client's brand (logo served
 * over https by a local self-signed server, name, color) before anyone signs in; after sign-in
 * the shell wears it; the server's own address shows the platform's brand.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../helpers/https-receiver.ts';
import { freePort } from '../helpers/processes.ts';
import { migratedDataDir, tempDir, testClientConfig, uniqueId, writeClientFile } from '../helpers/test-app.ts';
import { TEST_DATABASE_URL } from '../helpers/test-db.ts';
import { clearSession, createUserWithCli, ensureBundle, launchBrowser, screenshots, seriousViolations, settled, startServer, watchConsole, type ServerProcess } from './browser-harness.ts';

declare const document: { querySelector(selector: string): { naturalWidth: number } | null };
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string };

const HOST = 'portal.brightsmile.test';
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="#ffd700"/><path d="M11 22q9 9 18 0" stroke="#0f172a" stroke-width="3" fill="none"/></svg>';

describe('white-label: a client custom host wears its brand before and after sign-in', () => {
  let server: ServerProcess;
  let logoServer: Server;
  let browser: BrowserContext;
  let port: number;
  const problems: string[] = [];
  const clientId = uniqueId('bright');
  const owner = { email: `owner@${clientId}.example`, password: 'bright-smile-password-1' };

  const look = async (page: Page, name: string) => {
    await settled(page);
    expect(await seriousViolations(page), name).toEqual([]);
    expect(await screenshots(page, name), name).toEqual([]);
  };
  const logoLoaded = (page: Page) => page.evaluate(() => (document.querySelector('img.brand-logo')?.naturalWidth ?? 0) > 0);
  const buttonColors = (page: Page) =>
    page.getByRole('button', { name: 'Sign in' }).evaluate((el) => {
      const style = getComputedStyle(el);
      return { background: style.backgroundColor, color: style.color };
    });

  beforeAll(async () => {
    const tls = selfSignedCertificate();
    if (tls === null) throw new Error('openssl is needed for the https logo server');
    logoServer = createServer(tls, (_req, res) => res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(LOGO));
    await new Promise<void>((resolve) => logoServer.listen(0, '127.0.0.1', resolve));
    const logoUrl = `https://127.0.0.1:${(logoServer.address() as AddressInfo).port}/logo.svg`;

    ensureBundle();
    const clientsDir = tempDir('brand-clients-');
    writeClientFile(clientsDir, testClientConfig(clientId, { name: 'Bright Smile Dental LLC', branding: { display_name: 'Bright Smile', logo_url: logoUrl, primary_color: '#ffd700', custom_host: HOST } }));
    port = await freePort();
    const env: Record<string, string> = {
      DATA_DIR: migratedDataDir('brand-data-'),
      CLIENTS_DIR: clientsDir,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    };
    server = await startServer(env, port, { readyTimeoutMs: 120_000 });
    await createUserWithCli(env, { ...owner, role: 'client_admin', clientId });
    // The custom host resolves to this machine; the logo's self-signed certificate is accepted.
    browser = await launchBrowser({ extraArgs: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, '--ignore-certificate-errors'] });
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => logoServer?.close(resolve));
  });

  it('the custom host: the brand on the sign-in page, then in the shell; the platform address: the platform brand', async () => {
    const page = await browser.newPage();
    problems.push(...watchConsole(page));

    await page.goto(`http://${HOST}:${port}/login`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByText('Bright Smile', { exact: true }).waitFor();
    await expect.poll(() => logoLoaded(page)).toBe(true);
    // Gold: dark text on it, never white (1.4:1).
    expect(await buttonColors(page)).toEqual({ background: 'rgb(255, 215, 0)', color: 'rgb(15, 23, 42)' });
    expect(await page.title()).toBe('Bright Smile');
    expect(await page.content()).not.toContain('XLNC Perception');
    await look(page, 'branding-login-custom-host');

    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Client sections' }).waitFor();
    const home = page.getByRole('banner').getByRole('link').first();
    await expect.poll(() => home.textContent()).toBe('Bright Smile');
    // The client bar too names the display name, never the legal name.
    await expect.poll(async () => (await page.content()).includes('Bright Smile Dental LLC')).toBe(false);
    await expect.poll(() => logoLoaded(page)).toBe(true);
    await look(page, 'branding-shell-custom-host');

    await clearSession(page);
    await page.goto(`http://127.0.0.1:${port}/login`);
    await page.getByText('XLNC Perception', { exact: true }).waitFor();
    expect(await buttonColors(page)).toEqual({ background: 'rgb(29, 78, 216)', color: 'rgb(255, 255, 255)' });
    expect(await page.content()).not.toContain('Bright Smile');
    await look(page, 'branding-login-platform');
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
