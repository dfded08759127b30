import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import {
  callJson,
  PROCESS_ADMIN_TOKEN,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
} from '../helpers/server-process.ts';

/**
 * Shared plumbing of the browser tests: Debian's Chromium driven by
 * playwright-core, a real `continuum serve` process on a temp SQLite data
 * dir, a tenant and API key made through the operator API, and screenshots
 * into `docs/img/` when asked for.
 */

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** True when the browser tests can run here. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

const INSTALL_HINT = `${CHROMIUM_PATH} is missing: install it with \`apt-get install -y chromium\``;

/** Flags that keep a headless Chromium quiet, offline and runnable as root in a container. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where README screenshots go. */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'docs/img');

/**
 * Screenshots are written only with `CONTINUUM_SCREENSHOTS=1`, so an ordinary
 * (CI) run leaves the working tree clean; see docs/CONSOLE.md.
 */
export const screenshotsEnabled = process.env.CONTINUUM_SCREENSHOTS === '1';

/**
 * `describe` for a browser suite. Without Chromium the suite skips with a
 * reason naming the install command; under `CI=true` it fails instead, so a
 * CI image without Chromium cannot pass by skipping.
 *
 * @example
 * describeBrowser('the console', () => { it('signs in', async () => { ... }); });
 */
export function describeBrowser(name: string, body: () => void): void {
  if (chromiumAvailable) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium (CI=true: a missing browser is a failure, not a skip)', () => {
        throw new Error(`${INSTALL_HINT} (.ci/run does this when it can)`);
      });
    });
  } else {
    process.stderr.write(`skipping "${name}": ${INSTALL_HINT}\n`);
    describe.skip(`${name} (skipped: ${INSTALL_HINT})`, body);
  }
}

/**
 * Launch headless Debian Chromium. Close it in `afterAll`.
 *
 * @example
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 */
export async function launchBrowser(): Promise<Browser> {
  if (!chromiumAvailable) throw new Error(INSTALL_HINT);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A running server with one tenant ready for the browser to sign in with. */
export interface ConsoleServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The tenant's API key (what a user types into the sign-in form). */
  apiKey: string;
  tenantId: string;
  process: ServerProcess;
  /** Stop the process and remove its data dir. */
  stop(): Promise<void>;
}

export interface ConsoleServerOptions {
  /** Extra `CONTINUUM_*` settings, e.g. `{ CONTINUUM_LOCAL_WORD_DELAY_MS: '60' }` for a slow visible stream. */
  env?: Record<string, string>;
  /** The tenant's name (default `console-test`). */
  tenantName?: string;
}

/**
 * Start `continuum serve` (local model, SQLite in a temp dir) and create a
 * tenant with an API key through `POST /v1/admin/tenants`.
 *
 * @example
 * const server = await startConsoleServer({ env: { CONTINUUM_LOCAL_WORD_DELAY_MS: '60' } });
 * await page.goto(`${server.url}/console`);
 * await server.stop();
 */
export async function startConsoleServer(options: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-browser-'));
  let server: ServerProcess;
  try {
    server = await startServerProcess({ dataDir, env: { CONTINUUM_MODEL: 'local', ...options.env } });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const tenant = await callJson<{ tenantId: string; apiKey: string }>(server.url, 'POST', '/v1/admin/tenants', {
    token: PROCESS_ADMIN_TOKEN,
    body: { name: options.tenantName ?? 'console-test' },
  });
  if (tenant.status !== 201) {
    await server.kill9();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`create tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  }
  return {
    url: server.url,
    apiKey: tenant.body.apiKey,
    tenantId: tenant.body.tenantId,
    process: server,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SIGKILL any server process a failed test left running. For `afterAll`. */
export { stopAllServerProcesses };

/**
 * Save a full-page screenshot to `docs/img/<name>.png` when
 * `CONTINUUM_SCREENSHOTS=1` (overwriting the last one); otherwise does
 * nothing. Returns the path written, or undefined.
 *
 * @example
 * await saveScreenshot(page, 'console-signin');
 */
export async function saveScreenshot(page: Page, name: string): Promise<string | undefined> {
  if (!screenshotsEnabled) return undefined;
  if (!/^[a-z0-9-]+$/.test(name)) throw new TypeError(`screenshot name must be kebab-case (got ${name})`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/**
 * Collect the page's console errors and uncaught exceptions, so a test can
 * assert the app ran cleanly (a CSP violation shows up here too).
 *
 * @example
 * const errors = collectPageErrors(page);
 * // ... drive the page ...
 * expect(errors).toEqual([]);
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  return errors;
}

/**
 * Every visible text on the page whose contrast with the background behind
 * it is below WCAG AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px
 * bold). Disabled controls are exempt, as WCAG allows.
 *
 * @example
 * expect(await lowContrastTexts(page)).toEqual([]);
 */
export function lowContrastTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (css: string): number[] => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const channel = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
    };
    /** The colour behind an element: its translucent backgrounds composited over the first opaque one below. */
    const background = (start: Element): number[] => {
      const layers: number[][] = [];
      for (let node: Element | null = start; node; node = node.parentElement) {
        const rgba = parse(getComputedStyle(node).backgroundColor);
        const alpha = rgba.length === 3 ? 1 : (rgba[3] ?? 1);
        if (alpha > 0) layers.push([rgba[0]!, rgba[1]!, rgba[2]!, alpha]);
        if (alpha >= 1) break;
      }
      let colour = [255, 255, 255];
      for (const [r, g, b, a] of layers.reverse()) {
        colour = [r! * a! + colour[0]! * (1 - a!), g! * a! + colour[1]! * (1 - a!), b! * a! + colour[2]! * (1 - a!)];
      }
      return colour;
    };
    const failures: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      const element = text.parentElement;
      if (!element || (text.textContent ?? '').trim() === '' || element.closest(':disabled')) continue;
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      if (style.visibility === 'hidden' || box.width === 0 || box.height === 0) continue;
      if (element.closest('.visually-hidden, .skip-link')) continue;
      const [fg, bg] = [luminance(parse(style.color)), luminance(background(element))];
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`${ratio.toFixed(2)}: "${text.textContent!.trim().slice(0, 40)}"`);
    }
    return failures;
  });
}

/** True when the page is wider than the viewport (a horizontal scrollbar). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}
