/**
 * A new user's first run: `pnpm start --quick` where the CIFAR-10 host cannot be reached (this
 * machine's case), the page at the URL it prints, and the terminal conventions every command
 * shares (timestamps, --quiet, --version, predict --json). Real processes, real files.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import type { EpochRecord, RunRecord } from '@gradsync/metrics';
import { chromiumPath, launchBrowser, waitForAttribute, waitUntil, byTestId } from './helpers/browser';
import { COORDINATOR_CLI, endOf, readMetrics, ROOT, runCli, START_CLI, startCliStreaming, steps, tempDir, WORKER_CLI } from './helpers/runs';

const TRAIN_CLI = path.join(ROOT, 'packages/standalone/src/cli/train.ts');
const PREDICT_CLI = path.join(ROOT, 'packages/standalone/src/cli/predict.ts');
const EVALUATE_CLI = path.join(ROOT, 'packages/standalone/src/cli/evaluate.ts');
const DASHBOARD_CLI = path.join(ROOT, 'packages/coordinator/src/cli/dashboard.ts');
const MAKE_SYNTHETIC_CLI = path.join(ROOT, 'packages/tools/src/cli/make-synthetic.ts');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'packages/core/package.json'), 'utf8')) as { version: string }).version;

/** `2026-12-01 23:50:01 ` in front of every log line. */
const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /;
const RUN_TIMEOUT_MS = 240_000;

let cacheHome: string;
let unreachableUrl: string;

beforeAll(async () => {
  cacheHome = tempDir('xdg-cache');
  // A port nothing listens on: the download fails at once, as it does without network access.
  const probe = net.createServer();
  const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as AddressInfo).port)));
  await new Promise((r) => probe.close(r));
  unreachableUrl = `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`;
});

const offlineEnv = () => ({ XDG_CACHE_HOME: cacheHome, GRADSYNC_CIFAR10_URL: unreachableUrl, GRADSYNC_TOKEN: '' });
/** The quick preset, shortened for the test: a tiny model, 256 images, 2 epochs (the preset's 2 workers stay). */
const quickArgs = (runsDir: string, ...extra: string[]) => [
  '--quick',
  '--model',
  'tiny-cnn',
  '--limit-train',
  '256',
  '--epochs',
  '2',
  '--port',
  '0',
  '--runs-dir',
  runsDir,
  ...extra,
];
/** The same with more epochs, so that the run is still going while a browser loads the page. */
const longerQuickArgs = (runsDir: string) => ['--quick', '--model', 'tiny-cnn', '--limit-train', '256', '--epochs', '40', '--port', '0', '--runs-dir', runsDir];
const onlyRun = (runsDir: string) => {
  const names = readdirSync(runsDir);
  expect(names).toHaveLength(1);
  return path.join(runsDir, names[0]!);
};

describe('pnpm start --quick without access to the CIFAR-10 host', () => {
  const syntheticDir = () => path.join(cacheHome, 'gradsync', 'synthetic-quick-11000-2000-seed1');
  let firstRunDir: string;

  it(
    'says why, trains 2 workers on synthetic data written into the cache, serves the page at the URL it prints, and completes',
    async () => {
      const runsDir = tempDir('quick-runs');
      const run = startCliStreaming(START_CLI, quickArgs(runsDir), { env: offlineEnv() });
      try {
        const url = (await run.waitForLine(/dashboard: (http:\/\/\S+)/, 120_000))[1]!;
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/text\/html/);
        expect(await page.text()).toMatch(/<script[^>]+src=/);
        const exit = await Promise.race([
          run.exited,
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`quick run still going:\n${run.output().slice(-3000)}`)), RUN_TIMEOUT_MS)),
        ]);
        expect(exit.code, run.output().slice(-3000)).toBe(0);
      } finally {
        await run.stop();
      }
      const out = run.output();
      expect(out).toContain(`cannot download CIFAR-10 from ${unreachableUrl}`);
      expect(out).toMatch(/The quick run goes on with synthetic images instead .*set GRADSYNC_CIFAR10_URL to a mirror/);
      expect(out).toMatch(/quick run quick-\d{8}-\d{6}: 2 workers, 2 epochs on 256 synthetic training images, BatchNorm momentum 0\.9/);
      expect(readdirSync(syntheticDir()).sort()).toEqual([
        'batches.meta.txt',
        'data_batch_1.bin',
        'data_batch_2.bin',
        'data_batch_3.bin',
        'data_batch_4.bin',
        'data_batch_5.bin',
        'test_batch.bin',
      ]);

      firstRunDir = onlyRun(runsDir);
      expect(path.basename(firstRunDir)).toMatch(/^quick-\d{8}-\d{6}$/);
      const config = JSON.parse(readFileSync(path.join(firstRunDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({ model: 'tiny-cnn', epochs: 2, limitTrain: 256, validationCount: 'auto', bnMomentum: 0.9 });
      const records = readMetrics(firstRunDir);
      const runRecord = records.find((r): r is RunRecord => r.kind === 'run')!;
      // 'auto' holds out 10% of the 11,000 synthetic training images.
      expect(runRecord).toMatchObject({ trainCount: 256, validationCount: 1100, testCount: 2000 });
      expect(new Set(steps(records).flatMap((s) => s.workers.map((w) => w.rank)))).toEqual(new Set([0, 1]));
      expect(endOf(records)?.status).toBe('completed');
      expect(existsSync(path.join(firstRunDir, 'model', 'model.json'))).toBe(true);

      // Every line the coordinator and the workers log carries a timestamp ("[worker i] " is start's prefix).
      const logLines = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('  '));
      expect(logLines.length).toBeGreaterThan(10);
      for (const line of logLines) expect(line.replace(/^\[worker \d+\] /, '')).toMatch(TIMESTAMP);
    },
    RUN_TIMEOUT_MS + 60_000,
  );

  it(
    '--quiet: only the warning, the quick-run line, the URL and the result; the synthetic data is reused, not rewritten',
    async () => {
      const before = statSync(path.join(syntheticDir(), 'test_batch.bin')).mtimeMs;
      const runsDir = tempDir('quick-quiet');
      const r = await runCli(START_CLI, quickArgs(runsDir, '--quiet'), { env: offlineEnv(), timeoutMs: RUN_TIMEOUT_MS });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => TIMESTAMP.test(l));
      const said = lines.map((l) => l.replace(TIMESTAMP, ''));
      const expected = [
        /^warning: cannot download CIFAR-10 from /,
        /^quick run quick-\d+-\d+: 2 workers/,
        /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/,
        /^run completed in [\d.]+ s; test accuracy .*; to look at it again: pnpm dashboard \S+$/,
      ];
      expect(said, r.stderr).toHaveLength(expected.length);
      said.forEach((line, i) => expect(line).toMatch(expected[i]!));
      expect(r.stderr).not.toContain('[worker');
      expect(statSync(path.join(syntheticDir(), 'test_batch.bin')).mtimeMs).toBe(before);
      expect(endOf(readMetrics(onlyRun(runsDir)))?.status).toBe('completed');
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    '--keep-dashboard: the page stays up with the whole run after it ends, until Ctrl-C, which ends the command cleanly',
    async () => {
      const runsDir = tempDir('quick-keep');
      const run = startCliStreaming(START_CLI, quickArgs(runsDir, '--keep-dashboard'), { env: offlineEnv() });
      try {
        const url = (await run.waitForLine(/run completed in .*; the dashboard stays up at (http:\/\/\S+) until Ctrl-C/, RUN_TIMEOUT_MS))[1]!;
        // The run is over (its workers are gone), and the page still serves all of it.
        const records = (await (await fetch(`${url}api/records`)).json()) as { kind: string; status?: string }[];
        expect(records.find((r) => r.kind === 'end')?.status).toBe('completed');
        expect((await fetch(url)).status).toBe(200);
        run.child.kill('SIGINT');
        expect((await run.exited).code, run.output().slice(-3000)).toBe(0);
        expect(run.output()).toMatch(/dashboard stopped; to look at it again: pnpm dashboard \S+quick-\d{8}-\d{6}\n/);
        await expect(fetch(url)).rejects.toThrow();
      } finally {
        await run.stop();
      }
    },
    RUN_TIMEOUT_MS + 60_000,
  );

  it('predict --json classifies an image with the model the quick run exported', async () => {
    // A 40x24 PNG of the synthetic "airplane" colour, written with pngjs (the decoder's own library).
    const png = new PNG({ width: 40, height: 24 });
    for (let i = 0; i < 40 * 24; i++) png.data.set([230, 40, 40, 255], i * 4);
    const image = path.join(tempDir('predict'), 'red.png');
    writeFileSync(image, PNG.sync.write(png));
    const r = await runCli(PREDICT_CLI, ['--model', path.join(firstRunDir, 'model'), '--image', image, '--top', '4', '--json', '--quiet'], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as {
      images: { file: string; width: number; height: number; top: { classIndex: number; className: string; probability: number }[] }[];
    };
    expect(answer.images).toHaveLength(1);
    const [only] = answer.images;
    expect(only).toMatchObject({ file: image, width: 40, height: 24 });
    expect(only!.top).toHaveLength(4);
    const probabilities = only!.top.map((t) => t.probability);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-6);
    for (const t of only!.top)
      expect(t.className).toBe(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'][t.classIndex]);
  }, 90_000);

  it("evaluate --json scores the exported model on the test set as the run's last epoch did, with its mirror images, and over six views", async () => {
    const r = await runCli(EVALUATE_CLI, ['--model', path.join(firstRunDir, 'model'), '--data-dir', syntheticDir(), '--json', '--quiet'], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { results: { views: string; accuracy: number; loss: number; count: number }[] };
    expect(answer.results.map((x) => [x.views, x.count])).toEqual([
      ['one', 2000],
      ['flip', 2000],
      ['flip-translate', 2000],
    ]);
    const lastEpoch = readMetrics(firstRunDir)
      .filter((x): x is EpochRecord => x.kind === 'epoch')
      .at(-1)!;
    // The same weights and images; the run split them between 2 workers, so allow one image's float-noise flip.
    expect(Math.abs(answer.results[0]!.accuracy - lastEpoch.test!.accuracy)).toBeLessThanOrEqual(1 / 2000);
    expect(Math.abs(answer.results[0]!.loss - lastEpoch.test!.loss)).toBeLessThan(1e-3);
    expect(answer.results[1]!.accuracy).toBeGreaterThan(0);
    expect(answer.results[1]!.loss).not.toBe(answer.results[0]!.loss);
    expect(answer.results[2]!.accuracy).toBeGreaterThan(0);
    expect(answer.results[2]!.loss).not.toBe(answer.results[1]!.loss);
  }, 150_000);
});

// As in dashboard.browser.test.ts: skipped only off CI, where .ci/run installs Chromium.
const skipBrowser = chromiumPath() === null && !process.env.CI;
if (skipBrowser) noteSkip({ suite: 'the quick run in a browser (test/first-run.e2e.test.ts)', why: 'no Chromium (or set CHROMIUM_PATH)', apt: ['chromium'] });

describe.skipIf(skipBrowser)('the quick run in Chromium', () => {
  let stop: (() => Promise<void>) | null = null;
  afterAll(async () => {
    await stop?.();
  });

  it(
    'the page at the printed URL goes live and shows the quick run',
    async () => {
      const runsDir = tempDir('quick-browser');
      const run = startCliStreaming(START_CLI, longerQuickArgs(runsDir), { env: offlineEnv() });
      const browser = await launchBrowser();
      stop = async () => {
        await browser.close();
        await run.stop();
      };
      const url = (await run.waitForLine(/dashboard: (http:\/\/\S+)/, 120_000))[1]!;
      await browser.page.goto(url);
      await waitForAttribute(browser.page, 'connection-status', 'data-status', (s) => s === 'live', 30_000);
      await waitUntil(
        async () => (await byTestId(browser.page, 'run-config').textContent()) ?? '',
        (t) => t.includes('quick-'),
        'the quick run in the configuration panel',
        60_000,
      );
      expect(browser.errors).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('every command', () => {
  const CLIS = {
    start: START_CLI,
    coordinator: COORDINATOR_CLI,
    worker: WORKER_CLI,
    train: TRAIN_CLI,
    predict: PREDICT_CLI,
    evaluate: EVALUATE_CLI,
    dashboard: DASHBOARD_CLI,
    'make-synthetic': MAKE_SYNTHETIC_CLI,
  };

  it.each(Object.entries(CLIS))(
    '%s --version prints the version and exits 0',
    async (_name, cli) => {
      const r = await runCli(cli, ['--version'], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`gradsync ${VERSION}`);
    },
    70_000,
  );
});
