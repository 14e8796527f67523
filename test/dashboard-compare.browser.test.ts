/**
 * `pnpm dashboard runs/` in a real browser: two real `pnpm train` runs on synthetic data, the
 * dashboard CLI as a real process, headless Chromium on its compare view.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EndRecord } from '@gradsync/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { type BrowserSession, byTestId, chromiumPath, ensureDashboardBuilt, launchBrowser, waitForAttribute } from './helpers/browser';
import { endOf, epochs, readMetrics, ROOT, runCli, type StreamingProcess, startCliStreaming, syntheticDataDir, tempDir } from './helpers/runs';

const TRAIN_CLI = path.join(ROOT, 'packages/standalone/src/cli/train.ts');
const DASHBOARD_CLI = path.join(ROOT, 'packages/coordinator/src/cli/dashboard.ts');
const skipBrowser = chromiumPath() === null && !process.env.CI;

describe.skipIf(skipBrowser)('compare view of a runs folder', () => {
  let browser: BrowserSession | null = null;
  let dashboard: StreamingProcess | null = null;
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
  });

  it('lists both runs, tables their figures, overlays their curves and downloads a chart as CSV', async () => {
    ensureDashboardBuilt();
    const dataDir = await syntheticDataDir(320, 64);
    const runsDir = tempDir('runs');
    const runs = [
      { name: 'slow-lr', lr: '0.0005', epochs: '2' },
      { name: 'fast-lr', lr: '0.005', epochs: '3' },
    ];
    for (const r of runs) {
      const result = await runCli(TRAIN_CLI, [
        ...['--data-dir', dataDir, '--runs-dir', runsDir, '--run-name', r.name, '--model', 'tiny-cnn', '--backend', 'wasm'],
        ...['--epochs', r.epochs, '--batch-size', '64', '--validation', '64', '--lr', r.lr],
      ]);
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
    }

    dashboard = startCliStreaming(DASHBOARD_CLI, [runsDir, '--port', '0']);
    const url = (await dashboard.waitForLine(/dashboard: (http:\/\/\S+)/, 60_000))[1];
    browser = await launchBrowser({ width: 1440, height: 1000 });
    const { page } = browser;
    await page.goto(url);
    await waitForAttribute(page, 'compare-status', 'data-shown', (v) => v === '2', 30_000);

    // The picker and the table list both runs; the table's figures are the runs' own.
    expect(await page.locator('[data-testid="run-picker"] label[data-run]').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-run')))).toEqual([
      'fast-lr',
      'slow-lr',
    ]);
    for (const r of runs) {
      const records = readMetrics(path.join(runsDir, r.name));
      const end = endOf(records) as EndRecord;
      const bestVal = Math.max(...epochs(records).map((e) => e.validation!.accuracy));
      const cells = await page.locator(`[data-testid="runs-table"] tr[data-run="${r.name}"] td`).allTextContents();
      expect(cells[0]).toBe(r.name);
      expect(cells).toContain('tiny-cnn');
      expect(cells[2]).toBe(r.epochs);
      expect(cells[4]).toBe(String(Number(r.lr)));
      // One process: one worker, on the backend it was given.
      expect(cells[5]).toBe('1');
      expect(cells[6]).toBe('wasm');
      expect(cells[7]).toBe(`${(end.test!.accuracy * 100).toFixed(1)}%`);
      expect(cells[8]).toBe(`${(bestVal * 100).toFixed(1)}%`);
    }
    // Each run is a line in the legend of both charts.
    const legend = await byTestId(page, 'compare-loss-chart').locator('.u-legend').textContent();
    expect(legend).toContain('fast-lr');
    expect(legend).toContain('slow-lr validation');

    // The CSV download holds one column per line and one row per x, with the runs' real losses.
    const [download] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'compare-loss-chart-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^loss.*-by-step\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv[0].split(',')).toEqual(['step', 'fast-lr', 'fast-lr validation', 'slow-lr', 'slow-lr validation']);
    // 4 steps an epoch: fast-lr ran 12 steps (0..11), validated at steps 4, 8 and 12.
    expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: 13 }, (_, i) => i));
    const fastVal = epochs(readMetrics(path.join(runsDir, 'fast-lr'))).map((e) => e.validation!.loss);
    expect(
      csv
        .slice(1)
        .map((l) => l.split(',')[2])
        .filter((c) => c !== '')
        .map(Number),
    ).toEqual(fastVal);

    // Wall-time axis and log scale.
    await byTestId(page, 'x-axis').selectOption('wall');
    const [byWall] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'compare-accuracy-chart-csv').click()]);
    expect(readFileSync((await byWall.path())!, 'utf8').split('\n')[0]).toMatch(/^wall time \(s\),/);
    expect(await byTestId(page, 'compare-loss-chart').getAttribute('data-y-scale')).toBe('linear');
    await byTestId(page, 'compare-loss-chart-log').locator('input').check();
    expect(await byTestId(page, 'compare-loss-chart').getAttribute('data-y-scale')).toBe('log');

    // Unpicking a run drops it from the table and the charts.
    await page.locator('[data-testid="run-picker"] label[data-run="slow-lr"] input').uncheck();
    await waitForAttribute(page, 'compare-status', 'data-shown', (v) => v === '1');
    expect(await page.locator('[data-testid="runs-table"] tr[data-run]').count()).toBe(1);
    expect(await byTestId(page, 'compare-loss-chart').locator('.u-legend').textContent()).not.toContain('slow-lr');
    expect(browser.errors).toEqual([]);
  }, 300_000);
});
