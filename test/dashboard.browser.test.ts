/**
 * The dashboard in a real browser: a MetricsFeed behind startDashboardServer, a headless
 * Chromium on the page, and a scripted run published over time. Writes docs/dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MetricRecord } from '@gradsync/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import { MetricsFeed, startDashboardServer, type DashboardServer } from '@gradsync/dashboard/node';
import {
  type BrowserSession,
  byTestId,
  chromiumPath,
  ensureDashboardBuilt,
  launchBrowser,
  REPO_ROOT,
  waitForAttribute,
  waitForNumber,
  waitForTestId,
  waitUntil,
} from './helpers/browser';
import { type StreamingProcess, START_CLI, startCliStreaming, syntheticDataDir, tempDir } from './helpers/runs';
import { ScriptedRun, STEPS_PER_EPOCH, VALIDATION_COUNT } from './helpers/scripted-run';

const SCREENSHOT = path.join(REPO_ROOT, 'docs', 'dashboard.png');
const LIVE_SCREENSHOT = path.join(REPO_ROOT, 'docs', 'dashboard-live-run.png');
const noChromium = chromiumPath() === null;
// Skipped only off CI: under CI (which installs Chromium through .ci/run) a missing browser fails the tests.
const skipBrowser = noChromium && !process.env.CI;
if (skipBrowser) {
  noteSkip({ suite: 'the dashboard in a browser (test/dashboard.browser.test.ts)', why: 'no Chromium (or set CHROMIUM_PATH)', apt: ['chromium'] });
}

/** Publishes records in batches, letting the page draw in between. */
async function publishOverTime(feed: MetricsFeed, records: MetricRecord[], batch = 40, pauseMs = 15): Promise<void> {
  for (let i = 0; i < records.length; i += batch) {
    for (const r of records.slice(i, i + batch)) feed.publish(r);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

describe.skipIf(skipBrowser)('dashboard in a browser', () => {
  let browser: BrowserSession;
  let server: DashboardServer | null = null;
  let port = 0;
  const feed = new MetricsFeed();
  const script = new ScriptedRun('seed-cnn-2gpu', 2300);
  const published: MetricRecord[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, feed });
    port = server.port;
    browser = await launchBrowser({ width: 1440, height: 900 });
    feed.subscribe((r) => published.push(r));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a run live: curves, workers, confusion matrix, preview', async () => {
    const { page } = browser;
    await page.goto(server!.url);
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'live');

    // The run starts; two workers join.
    await publishOverTime(feed, script.start());
    await waitUntil(
      () => page.locator('[data-testid="worker-table"] tr[data-rank]').count(),
      (n) => n === 2,
      'two worker rows',
    );
    expect(await page.locator('[data-testid="worker-table"] tr[data-status="joining"]').count()).toBe(2);
    expect(await byTestId(page, 'run-config').textContent()).toContain('seed-cnn');

    // Steps arrive: the loss chart grows, the workers are training.
    await publishOverTime(feed, script.steps(300));
    const early = await waitForNumber(page, 'loss-chart', 'data-points', (n) => n >= 300);
    await waitUntil(
      () => page.locator('[data-testid="worker-table"] tr[data-status="training"]').count(),
      (n) => n === 2,
      'two training workers',
    );
    expect(await page.locator('[data-testid="worker-table"] tr[data-rank="1"] td').nth(1).textContent()).toContain('gpu-node-1');
    expect(await page.locator('[data-testid="worker-table"] tr[data-rank="1"] td[data-col="gpu"]').textContent()).toMatch(/^3(\.\d)? GiB$/);
    // Each rank's share of the batch, and who held the latest step back, live.
    expect(await page.locator('[data-testid="worker-table"] tr[data-rank="1"] td[data-col="share"]').textContent()).toBe('50%');
    expect(await page.locator('[data-testid="worker-table"] tr[data-rank="1"] td[data-col="wire"]').textContent()).toBe('↑660 KiB ↓660 KiB');
    expect(await byTestId(page, 'straggler').textContent()).toMatch(
      /^Step \d+ waited on rank [01] .*: its gradient took \d+ ms against \d+ ms .* share 50% of the batch/,
    );
    expect(await byTestId(page, 'confusion-matrix').getAttribute('data-total')).toBe('0');

    // The first epoch ends: confusion matrix and preview images appear.
    await publishOverTime(feed, script.steps(STEPS_PER_EPOCH - 300));
    const total = await waitForNumber(page, 'confusion-matrix', 'data-total', (n) => n > 0);
    expect(total).toBe(VALIDATION_COUNT);
    await waitForNumber(page, 'preview-grid', 'data-count', (n) => n === 16);
    expect(await page.locator('[data-testid="preview-grid"] canvas').count()).toBe(16);
    expect(await page.locator('[data-testid="confusion-matrix"] tbody tr').count()).toBe(10);

    // Two more epochs and part of the fourth: thousands of points (decimated), progress and ETA.
    // The last stretch is stamped with the real clock, so heartbeats read "now".
    await publishOverTime(feed, script.steps(2300 - STEPS_PER_EPOCH - 60), 100, 10);
    script.resync(Date.now() - 60 * 44);
    await publishOverTime(feed, script.steps(60));
    const later = await waitForNumber(page, 'loss-chart', 'data-points', (n) => n > early);
    expect(later).toBeGreaterThan(early);
    expect(later).toBeLessThanOrEqual(2002); // capped by min/max bucketing
    await waitForAttribute(page, 'loss-chart', 'data-steps', (s) => s === '2300');
    await waitForAttribute(page, 'epoch-progress', 'data-epoch', (s) => s === '4');
    expect(await byTestId(page, 'epoch-progress').textContent()).toMatch(/epoch ends in/);
    feed.publish({ kind: 'message', t: Date.now(), level: 'warn', text: 'rank 1 waited 180 ms for the all-reduce (slow link?)' });

    // Let the charts settle, then take the picture.
    await page.waitForTimeout(600);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(browser.errors).toEqual([]);
  }, 120_000);

  it('reconnects when the server comes back, and shows the end of the run', async () => {
    const { page } = browser;
    await server!.close();
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'reconnecting');

    // A new server on the same port with the same history, then the run ends.
    const restarted = new MetricsFeed({ history: published });
    server = await startDashboardServer({ host: '127.0.0.1', port, feed: restarted });
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'live', 20_000);
    await waitForAttribute(page, 'loss-chart', 'data-steps', (s) => s === '2300');
    restarted.publish({
      kind: 'worker',
      t: Date.now(),
      rank: 1,
      host: 'gpu-node-1',
      pid: 41_201,
      backend: 'tensorflow (tfjs-node-gpu)',
      device: 'GPU 1',
      status: 'gone',
      reason: 'run finished',
    });
    restarted.publish({
      kind: 'end',
      t: Date.now(),
      status: 'stopped',
      reason: 'stopped by the user (Ctrl-C)',
      epochs: 3,
      steps: 2300,
      wallSec: 115,
      test: null,
    });
    await waitForAttribute(page, 'end-status', 'data-status', (s) => s === 'stopped');
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'ended');
    expect(await page.locator('[data-testid="worker-table"] tr[data-rank="1"]').getAttribute('data-status')).toBe('gone');
    await waitForTestId(page, 'preview-grid');
    expect(browser.errors).toEqual([]);
  }, 60_000);
});

/** Up to ~4 minutes for a short CPU run on a busy 2-core machine; no assertion depends on its speed. */
const RUN_TIMEOUT_MS = 240_000;

describe.skipIf(skipBrowser)('dashboard of a real run (pnpm start, 2 CPU workers, synthetic data)', () => {
  let browser: BrowserSession | null = null;
  let run: StreamingProcess | null = null;

  afterAll(async () => {
    await browser?.close();
    await run?.stop();
  });

  it(
    'plots the loss as it trains, shows 2 training workers, fills the confusion matrix after validation, and the run completes',
    async () => {
      ensureDashboardBuilt();
      // 768 images, the last 128 validate: 640 train = 10 steps of 64 per epoch, 4 epochs.
      const dataDir = await syntheticDataDir(768, 128);
      const runsDir = tempDir('runs');
      run = startCliStreaming(START_CLI, [
        '--workers',
        '2',
        '--data-dir',
        dataDir,
        '--validation',
        '128',
        '--epochs',
        '4',
        '--model',
        'seed-cnn',
        '--port',
        '0',
        '--runs-dir',
        runsDir,
        '--run-name',
        'browser-live',
      ]);
      const url = (await run.waitForLine(/dashboard: (http:\/\/\S+)/, 120_000))[1];

      browser = await launchBrowser({ width: 1440, height: 900 });
      const { page } = browser;
      await page.goto(url);
      await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'live', 30_000);
      await waitUntil(
        async () => (await byTestId(page, 'run-config').textContent()) ?? '',
        (t) => t.includes('seed-cnn'),
        'the run configuration',
        60_000,
      );

      // Training: the loss chart gets points, then more of them; both workers are training.
      const workerRows = page.locator('[data-testid="worker-table"] tr[data-rank]');
      const training = page.locator('[data-testid="worker-table"] tr[data-status="training"]');
      const first = await waitForNumber(page, 'loss-chart', 'data-points', (n) => n > 0, RUN_TIMEOUT_MS);
      await waitUntil(
        () => training.count(),
        (n) => n === 2,
        'two training workers',
        RUN_TIMEOUT_MS,
      );
      expect(await workerRows.count()).toBe(2);
      // Without --browser-workers the page offers no "Join this run".
      expect(await page.locator('[data-testid="join-panel"]').count()).toBe(0);
      // Each worker's own CPU and memory, as it reported them with its steps.
      for (const rank of [0, 1]) {
        const cell = (col: string) => page.locator(`[data-testid="worker-table"] tr[data-rank="${rank}"] td[data-col="${col}"]`).textContent();
        await waitUntil(
          () => cell('rss'),
          (t) => /^\d+(\.\d+)? (MiB|GiB)$/.test(t ?? ''),
          `rank ${rank} RSS`,
          RUN_TIMEOUT_MS,
        );
        expect(await cell('cpu')).toMatch(/^\d+%$/);
      }
      const later = await waitForNumber(page, 'loss-chart', 'data-points', (n) => n > first, RUN_TIMEOUT_MS);
      expect(later).toBeGreaterThan(first);

      // The first epoch's validation: the confusion matrix counts the 128 held-out images; previews appear.
      const total = await waitForNumber(page, 'confusion-matrix', 'data-total', (n) => n > 0, RUN_TIMEOUT_MS);
      expect(total).toBe(128);
      expect(await page.locator('[data-testid="confusion-matrix"] tbody tr').count()).toBe(10);
      const previews = await waitForNumber(page, 'preview-grid', 'data-count', (n) => n > 0, RUN_TIMEOUT_MS);
      expect(await page.locator('[data-testid="preview-grid"] canvas').count()).toBe(previews);
      const epoch = Number(await byTestId(page, 'epoch-progress').getAttribute('data-epoch'));
      expect(epoch).toBeGreaterThanOrEqual(1);

      // The picture, taken while the run is still going (unless it already finished, which the log notes).
      const stillRunning = run.child.exitCode === null && run.child.signalCode === null;
      await page.waitForTimeout(300);
      mkdirSync(path.dirname(LIVE_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: LIVE_SCREENSHOT, fullPage: true });
      if (!stillRunning) process.stderr.write('dashboard-live-run.png was taken after the run had ended\n');

      expect(browser.errors).toEqual([]);

      // The run completes on its own, and the page says so.
      const exit = await Promise.race([
        run.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`run still going after ${RUN_TIMEOUT_MS} ms:\n${run!.output().slice(-3000)}`)), RUN_TIMEOUT_MS),
        ),
      ]);
      if (exit.code !== 0) throw new Error(`run exited ${exit.code ?? exit.signal}:\n${run.output().slice(-3000)}`);
      await waitForAttribute(page, 'end-status', 'data-status', (s) => s === 'completed', 30_000);
      await waitForAttribute(page, 'loss-chart', 'data-steps', (s) => s === '40', 30_000);
      expect(await waitForNumber(page, 'loss-chart', 'data-points', (n) => n >= later)).toBeGreaterThanOrEqual(later);
      // Once the coordinator has exited the page keeps retrying its feed (a resumed run may come back
      // on the same port); those refused connections are the only errors allowed.
      expect(browser.errors.filter((e) => !/WebSocket connection to '\S+\/feed' failed/.test(e))).toEqual([]);
    },
    RUN_TIMEOUT_MS * 2 + 120_000,
  );
});

describe.skipIf(skipBrowser)('dashboard whose feed is refused', () => {
  let browser: BrowserSession | null = null;
  const servers: DashboardServer[] = [];
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close().catch(() => {})));
  });

  it('says why and which URL to open when the coordinator comes back with another viewer token', async () => {
    ensureDashboardBuilt();
    const first = await startDashboardServer({ host: '127.0.0.1', port: 0, feed: new MetricsFeed(), viewerToken: 'first-token' });
    servers.push(first);
    browser = await launchBrowser({ width: 1200, height: 800 });
    const { page } = browser;
    await page.goto(first.openUrl);
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'live');
    expect(await byTestId(page, 'feed-refused').isVisible()).toBe(false);

    // The coordinator starts again on the same port with a new token: the page's cookie no longer opens the feed.
    await first.close();
    const second = await startDashboardServer({ host: '127.0.0.1', port: first.port, feed: new MetricsFeed(), viewerToken: 'second-token' });
    servers.push(second);
    await waitForAttribute(page, 'connection-status', 'data-status', (s) => s === 'refused', 30_000);
    const banner = byTestId(page, 'feed-refused');
    expect(await banner.isVisible()).toBe(true);
    const text = (await banner.textContent()) ?? '';
    expect(text).toMatch(/refused this page's live feed \(a viewer cookie from another run or token\)/);
    expect(text).toMatch(/this viewer link's token is wrong or expired/);
    expect(text).toMatch(/Open the dashboard URL the coordinator printed, the one ending in \?token=/);
  }, 120_000);
});
