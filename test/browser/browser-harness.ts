/**
 * What the dashboard's browser tests need: the bundle built, a real server process on a free
 * port, users made with the CLI, and Debian's Chromium (never a downloaded browser) with a fresh
 * profile, plus axe-core and screenshots at phone and desktop widths.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, TMP_DIR } from '../helpers/paths.ts';
import { exited, runXlnc, serverUp, startServer as spawnServer } from '../helpers/processes.ts';
import { tempDir } from '../helpers/test-app.ts';

// The few browser globals the in-page functions below use (this project's types are Node's, not the DOM's).
interface PageElement {
  tagName: string;
  parentElement: PageElement | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; right: number };
}
declare const window: object;
declare const document: { documentElement: { clientWidth: number }; body: { querySelectorAll(selector: string): ArrayLike<PageElement> }; querySelector(selector: string): unknown };
declare function getComputedStyle(element: PageElement): { overflowX: string };
declare function requestAnimationFrame(callback: () => void): number;
declare const localStorage: { clear(): void };

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(TMP_DIR, 'screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function ensureBundle(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'web/build.mjs'), '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
}

/** `xlnc users create`, the real command, with the server's environment. */
export async function createUserWithCli(env: Record<string, string>, user: { email: string; password: string; role: string; clientId?: string }): Promise<void> {
  const args = ['users', 'create', '--email', user.email, '--role', user.role, '--password-stdin', ...(user.clientId ? ['--client', user.clientId] : [])];
  // The timeout only guards against a hang: on a loaded machine the command can take a while.
  const result = await runXlnc(args, env, { stdin: `${user.password}\n`, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`users create failed: ${result.stderr}`);
}

export interface ServerProcess {
  baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `readyTimeoutMs`: a fresh data folder first migrates its embedded database (tens of seconds on a
 * busy machine). A server that exits before it answers fails at once, whatever the timeout.
 */
export async function startServer(env: Record<string, string>, port: number, options: { readyTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const { child, output } = spawnServer({ PORT: String(port), HOST: '127.0.0.1', ...env });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await serverUp(child, `${baseUrl}/health`, options.readyTimeoutMs ?? 90_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}: ${output()}`);
  }
  return {
    baseUrl,
    output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules=MAP portal.example.test 127.0.0.1` for a custom host. */
export async function launchBrowser(options: { extraArgs?: string[] } = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launchPersistentContext(tempDir('chromium-profile-'), {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
  });
}

/** Every console error and uncaught exception of a page, to assert there were none. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${page.url()}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: uncaught: ${error.message}`));
  return problems;
}

const axeSource = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now (evaluated, so the page's CSP stays on). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const violations = await page.evaluate(async (source) => {
    if (!('axe' in window)) (0, eval)(source);
    const axe = (window as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  }, axeSource);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Elements sticking out past the right edge (outside any scrolling box): the page scrolls sideways on a phone. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrolls = (el: PageElement): boolean => {
      for (let node = el.parentElement; node; node = node.parentElement) {
        const style = getComputedStyle(node);
        if (style.overflowX === 'auto' || style.overflowX === 'scroll' || style.overflowX === 'hidden') return true;
      }
      return false;
    };
    const out: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && rect.right > width + 1 && !scrolls(el)) out.push(`<${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> right edge ${Math.round(rect.right)} px`);
    }
    return out.slice(0, 5);
  });
}

/**
 * Desktop and 375 px screenshots of the page as it is, into .tmp/screenshots (gitignored).
 * Returns what makes the 375 px page wider than the phone.
 */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  // Two frames: resize observers (the chart) redraw first.
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  const wide = await overflowing(page);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 860 });
  return wide;
}

/** A page signed out: the one browser profile keeps a session between tests otherwise. */
export async function clearSession(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.clear());
}

/** Waits until no loading state is left on the page. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('.state-loading') === null && document.querySelector('main') !== null, undefined, { timeout: 15_000 });
}

/**
 * What every page a test looks at is checked for: console errors (gathered when a page opened with
 * `newPage` closes; `ignoreConsole` drops refusals a test provokes on purpose), serious axe
 * violations and anything wider than a phone, with the screenshots named `${screenshotPrefix}${name}`.
 * The test's last case asserts the three lists empty.
 */
export function pageChecks(browser: () => BrowserContext, options: { screenshotPrefix?: string; ignoreConsole?: RegExp } = {}) {
  const consoleProblems: string[] = [];
  const a11y: string[] = [];
  const layout: string[] = [];
  return {
    consoleProblems,
    a11y,
    layout,
    async newPage(): Promise<Page> {
      const page = await browser().newPage();
      const problems = watchConsole(page);
      page.on('close', () => consoleProblems.push(...problems.filter((p) => options.ignoreConsole === undefined || !options.ignoreConsole.test(p))));
      return page;
    },
    async look(page: Page, name: string): Promise<void> {
      await settled(page);
      a11y.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
      layout.push(...(await screenshots(page, `${options.screenshotPrefix ?? ''}${name}`)).map((v) => `${name} at 375 px: ${v}`));
    },
  };
}
