/**
 * Headless Chromium for the dashboard's browser tests, through playwright-core and the system
 * Chromium (never a downloaded browser build), plus helpers that wait on data-testid elements.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DASHBOARD_DIR = path.join(REPO_ROOT, 'packages', 'dashboard');
export const DASHBOARD_DIST = path.join(DASHBOARD_DIR, 'dist');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The Chromium to drive: $CHROMIUM_PATH, else /usr/bin/chromium; null when there is none. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh persistent context in a temporary profile folder (removed on close). */
export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<BrowserSession> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'gradsync-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function byTestId(page: Page, testId: string): Locator {
  return page.locator(`[data-testid="${testId}"]`).first();
}

/** Waits until the element with this data-testid is in the page. */
export async function waitForTestId(page: Page, testId: string, timeoutMs = 15_000): Promise<Locator> {
  const locator = byTestId(page, testId);
  await locator.waitFor({ state: 'attached', timeout: timeoutMs });
  return locator;
}

/** Polls `probe` until `accept` holds; fails naming `what` and the last value seen. */
export async function waitUntil<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until an attribute of the element with this data-testid passes `accept`; returns it. */
export async function waitForAttribute(
  page: Page,
  testId: string,
  attribute: string,
  accept: (value: string | null) => boolean,
  timeoutMs = 15_000,
): Promise<string | null> {
  const locator = await waitForTestId(page, testId, timeoutMs);
  return waitUntil(() => locator.getAttribute(attribute), accept, `[data-testid=${testId}] ${attribute}`, timeoutMs);
}

/** A numeric attribute of a test id element, waited on until `accept` holds. */
export async function waitForNumber(page: Page, testId: string, attribute: string, accept: (n: number) => boolean, timeoutMs = 15_000): Promise<number> {
  const v = await waitForAttribute(page, testId, attribute, (s) => s !== null && s !== '' && accept(Number(s)), timeoutMs);
  return Number(v);
}

/**
 * Builds the dashboard into packages/dashboard/dist when it is missing or older than its
 * sources (turbo builds it before the e2e tests; this covers running a test file alone).
 * A lock folder keeps two test files from building at once.
 */
export function ensureDashboardBuilt(): string {
  if (isFresh()) return DASHBOARD_DIST;
  const lock = path.join(DASHBOARD_DIR, '.build-lock');
  const end = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - safeMtime(lock) > 180_000) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > end) throw new Error(`another dashboard build holds ${lock}`);
      else execFileSync(process.execPath, ['-e', 'setTimeout(()=>{},500)']);
    }
  }
  try {
    if (!isFresh()) {
      execFileSync(process.execPath, [path.join(DASHBOARD_DIR, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
        cwd: DASHBOARD_DIR,
        stdio: 'inherit',
      });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return DASHBOARD_DIST;
}

function isFresh(): boolean {
  const index = path.join(DASHBOARD_DIST, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  const sources = [path.join(DASHBOARD_DIR, 'index.html'), path.join(DASHBOARD_DIR, 'vite.config.ts'), ...walk(path.join(DASHBOARD_DIR, 'src'))];
  return sources.every((f) => f.endsWith('.test.ts') || safeMtime(f) <= built);
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function safeMtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
