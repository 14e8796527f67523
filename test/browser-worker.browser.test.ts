/**
 * A browser tab as a worker: a real coordinator and a real Node worker process, and a headless
 * Chromium on the coordinator's dashboard that presses "Join this run". The two train together
 * (star all-reduce: a tab accepts no ring links) with weight hashes compared at every step; then
 * the tab is closed mid-run and the Node worker finishes alone. Writes docs/dashboard-browser-worker.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord, WorkerRecord } from '@gradsync/metrics';
import { noteSkip } from '@gradsync/test-skips';
import { type BrowserSession, byTestId, chromiumPath, ensureDashboardBuilt, launchBrowser, REPO_ROOT, waitForAttribute, waitUntil } from './helpers/browser';
import {
  COORDINATOR_CLI,
  endOf,
  epochs,
  readMetrics,
  type StreamingProcess,
  startCliStreaming,
  steps,
  syntheticDataDir,
  tempDir,
  WORKER_CLI,
} from './helpers/runs';

const SCREENSHOT = path.join(REPO_ROOT, 'docs', 'dashboard-browser-worker.png');
const noChromium = chromiumPath() === null;
const skipBrowser = noChromium && !process.env.CI;
if (skipBrowser) {
  noteSkip({ suite: 'a browser tab as a worker (test/browser-worker.browser.test.ts)', why: 'no Chromium (or set CHROMIUM_PATH)', apt: ['chromium'] });
}

const TRAIN = 2048; // minus 128 for validation = 1920 training images = 30 steps of 64 per epoch
const STEPS_PER_EPOCH = 30;
const EPOCHS = 8;
const LONG = 240_000;

/** Answers the HTTP status and body of a WebSocket upgrade on /worker sent with this Origin. */
function upgradeWithOrigin(url: string, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => reject(err));
  });
}

describe.skipIf(skipBrowser)('a browser tab as a worker', () => {
  let browser: BrowserSession | null = null;
  const running: StreamingProcess[] = [];
  let dataDir: string;

  beforeAll(async () => {
    ensureDashboardBuilt();
    dataDir = await syntheticDataDir(TRAIN, 128);
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(running.map((p) => p.stop(1000)));
  });

  it(
    'trains beside a Node worker with equal hashes at every step; closing the tab mid-run leaves the Node worker to finish, no sample lost or repeated',
    async () => {
      const runsDir = tempDir('tab-runs');
      const c = startCliStreaming(COORDINATOR_CLI, [
        ...['--workers', '2', '--browser-workers', '--hash-every', '1', '--epochs', String(EPOCHS)],
        ...['--data-dir', dataDir, '--validation', '128', '--model', 'tiny-cnn', '--lr', '0.005'],
        ...['--port', '0', '--runs-dir', runsDir, '--run-name', 'tab'],
      ]);
      running.push(c);
      const url = (await c.waitForLine(/dashboard: (http:\/\/\S+)/, 120_000))[1];
      const workerUrl = (await c.waitForLine(/workers connect to (ws:\/\/\S+)/, 10_000))[1];

      // A page from another origin may not join; the dashboard's own origin may.
      const foreign = await upgradeWithOrigin(workerUrl, 'http://evil.example');
      expect(foreign.status).toBe(403);
      expect(foreign.body).toMatch(/evil\.example may not join/);

      running.push(startCliStreaming(WORKER_CLI, ['--coordinator', workerUrl, '--cpu']));
      browser = await launchBrowser({ width: 1440, height: 1000 });
      const { page } = browser;
      await page.goto(url);
      await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'live', 30_000);
      await byTestId(page, 'join-button').click();
      await waitForAttribute(page, 'join-state', 'data-state', (s) => s === 'training', LONG);
      expect(await byTestId(page, 'join-device').textContent()).toMatch(/^wasm: browser \(wasm SIMD, 1 thread\)$/);
      await c.waitForLine(/group 1: 2 worker\(s\), star all-reduce/, LONG);

      // Training together: both rows in the worker table, the tab's among them.
      await waitUntil(
        () => page.locator('[data-testid="worker-table"] tr[data-status="training"]').count(),
        (n) => n === 2,
        'two training workers',
        LONG,
      );
      expect(await page.locator('[data-testid="worker-table"]').textContent()).toContain('browser tab (Chromium');
      await c.waitForLine(/checkpoint written: .*00000060/, LONG);
      await page.waitForTimeout(300);
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(browser.errors).toEqual([]);

      // The tab is closed mid-run: a departure like any other.
      await page.close();
      await c.waitForLine(/left .*1 worker\(s\) remain/, 60_000);
      const { code } = await c.exited;
      expect(code, c.output().slice(-3000)).toBe(0);

      const records = readMetrics(path.join(runsDir, 'tab'));
      const joined = records.filter((r): r is WorkerRecord => r.kind === 'worker' && r.host.startsWith('browser tab ('));
      expect(joined.some((r) => r.status === 'training' && r.backend === 'wasm' && r.pid === 0)).toBe(true);
      const gone = joined.find((r) => r.status === 'gone');
      expect(gone, 'the tab leaves as a departure').toBeDefined();

      const st = steps(records);
      // Every step of every epoch once, each with the full global batch: no sample lost or used twice.
      expect(st.map((s) => s.step)).toEqual(Array.from({ length: EPOCHS * STEPS_PER_EPOCH }, (_, i) => i));
      for (let e = 0; e < EPOCHS; e++) expect(st.filter((s) => s.epoch === e).reduce((a, s) => a + s.samples, 0)).toBe(TRAIN - 128);

      const goneAt = records.indexOf(gone!);
      const together = records.slice(0, goneAt).filter((r): r is StepRecord => r.kind === 'step' && !r.recovered && r.workers.length === 2);
      expect(together.length).toBeGreaterThanOrEqual(2 * STEPS_PER_EPOCH);
      // Both replicas hold the same weights at every step they trained together.
      for (const s of together) {
        expect(s.hashes).toHaveLength(2);
        expect(new Set(s.hashes).size).toBe(1);
        // Over the star each rank sends its gradient and receives the sum: the same bytes both ways.
        for (const w of s.workers) {
          expect(w.sentBytes).toBeGreaterThan(0);
          expect(w.receivedBytes).toBe(w.sentBytes);
        }
      }
      const alone = records.slice(goneAt).filter((r): r is StepRecord => r.kind === 'step' && !r.recovered);
      expect(alone.length).toBeGreaterThan(STEPS_PER_EPOCH);
      for (const s of alone) expect(s.workers).toHaveLength(1);
      expect(endOf(records)?.status).toBe('completed');
      expect(epochs(records)).toHaveLength(EPOCHS);
    },
    2 * LONG,
  );
});
