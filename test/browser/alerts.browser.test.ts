/**
 * The operator's Alerts page in a real browser: two clients' open alerts (one critical, one
 * acknowledged) and a failed job, a client's history, acknowledge and retry by keyboard; axe and
 * 375 px / desktop screenshots (.tmp/screenshots). The app runs in this process, so the alerts are
 * raised by the real alert service with a firing detector and the job fails through pg-boss.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAlert, evaluateClient, listClientAlerts } from '../../src/alerts/alerts.service.ts';
import type { Detector } from '../../src/alerts/detectors.ts';
import { catalogueJobs } from '../../src/core/dispatch.ts';
import { JOB_CATALOGUE } from '../../src/core/router.ts';
import { loginAs, type TestUser } from '../helpers/auth.ts';
import { until } from '../helpers/inject-fetch.ts';
import { createTestApp, tempDir, testClientConfig, uniqueId, writeClientFile, type TestApp } from '../helpers/test-app.ts';
import { dropSchema } from '../helpers/test-db.ts';
import { clearSession, ensureBundle, launchBrowser, pageChecks } from './browser-harness.ts';

const firing = (kind: Detector['kind'], severity: 'critical' | 'warning', summary: string, action: string): Detector => ({
  kind,
  needsConfig: false,
  evaluate: async () => ({ status: 'firing', severity, summary, action, details: {} }),
});

describe('the operator alerts page in a browser', () => {
  const a = uniqueId('web-alert-a');
  const b = uniqueId('web-alert-b');
  const queueSchema = `pgboss_alerts_${randomBytes(4).toString('hex')}`;
  let t: TestApp;
  let baseUrl = '';
  let browser: BrowserContext;
  const { consoleProblems, a11y, layout, newPage, look } = pageChecks(() => browser);
  let operator: TestUser;


  beforeAll(async () => {
    ensureBundle();
    const dir = tempDir('alerts-clients-');
    writeClientFile(dir, testClientConfig(a, { name: 'Alert Dental' }));
    writeClientFile(dir, testClientConfig(b, { name: 'Alert Plumbing' }));
    t = await createTestApp({ clientsDir: dir, queueSchema });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    operator = await loginAs(t, 'platform_admin');

    const deps = { tenancy: t.deps.tenancy, queue: t.deps.queue, health: t.deps.health, logger: t.deps.logger, policy: t.deps.alerting.policy };
    const now = new Date();
    await evaluateClient(deps, t.deps.registry.get(a)!, now, [firing('signature_failures', 'critical', '12 webhook signatures failed in 10 minutes', 'Check the Retell API key in the client file')]);
    await evaluateClient(deps, t.deps.registry.get(b)!, now, [firing('messages_failing', 'warning', '4 of 10 texts failed in the last hour', 'Look at the Messages page for the reasons')]);
    const alertB = (await listClientAlerts(t.deps.tenancy, b, 'all', 5))[0]!;
    await acknowledgeAlert(t.deps.tenancy, b, alertB.id, operator.id);

    // A follow-up text whose only attempt failed: no worker runs, this test fails it as a handler would.
    await t.deps.queue.register(catalogueJobs(JOB_CATALOGUE));
    const boss = t.deps.queue.boss;
    await boss.send('message.send', { client_id: a, message_id: '00000000-0000-4000-8000-000000000001' }, { retryLimit: 0 });
    const [job] = await boss.fetch('message.send');
    await boss.fail('message.send', job!.id, { message: 'Twilio answered 503 Service Unavailable' });
    await until(async () => (await t.deps.queue.deadLetters({ clientId: a })).length === 1, 20_000, 'the failed job in the dead-letter queue');

    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await dropSchema(queueSchema);
  });

  it('shows open alerts and failed jobs; the operator opens a history, acknowledges and retries by keyboard', async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/login`);
    await clearSession(page);
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email', { exact: true }).fill(operator.email);
    await page.getByLabel('Password', { exact: true }).fill(operator.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();

    const open = page.getByRole('table', { name: 'Open alerts' });
    await open.waitFor();
    // The database may hold other tests' clients' alerts: these two clients' rows.
    expect(await open.getByRole('row').filter({ hasText: a }).count()).toBe(1);
    expect(await open.getByRole('row').filter({ hasText: b }).count()).toBe(1);
    await page.getByText(/^\d+ open alerts?, \d+ critical\.$/).waitFor();
    const rowA = open.getByRole('row').filter({ hasText: a });
    await rowA.getByText('Webhook signatures failing').waitFor();
    await rowA.getByText('Critical').waitFor();
    await open.getByRole('row').filter({ hasText: b }).getByText(/^Acknowledged /).waitFor();
    const jobs = page.getByRole('table', { name: 'Failed jobs' });
    await jobs.getByText('Twilio answered 503 Service Unavailable').waitFor();
    expect(await jobs.getByRole('row').count()).toBe(2);
    await look(page, 'alerts');

    await rowA.getByRole('link', { name: a }).click();
    await page.getByRole('heading', { name: `History of ${a}` }).waitFor();
    await look(page, 'alerts-history');

    await page.getByRole('button', { name: `Acknowledge: Webhook signatures failing for ${a}` }).focus();
    await page.keyboard.press('Enter');
    await rowA.getByText(/^Acknowledged /).waitFor();
    expect(await rowA.getByRole('button', { name: /^Acknowledge:/ }).count()).toBe(0);

    await page.getByRole('button', { name: `Retry message.send of ${a}` }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('No failed jobs').waitFor();
    expect(await t.deps.queue.deadLetters({ clientId: a })).toEqual([]);
    await look(page, 'alerts-after-actions');
    await page.close();
  }, 90_000);

  it('no console errors, no serious or critical axe violation, nothing wider than a phone', () => {
    expect(consoleProblems).toEqual([]);
    expect(a11y).toEqual([]);
    expect(layout).toEqual([]);
  });
});
