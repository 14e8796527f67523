/**
 * Your own images: an image folder (PNG and JPEG, odd sizes, resized once at load) and CIFAR-100's
 * binary files, each trained by a real coordinator with 2 local worker processes; the exported
 * model then answers `predict` and `evaluate` with the data's own class names.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { MetricsFeed, startDashboardServer } from '@gradsync/dashboard/node';
import { byTestId, chromiumPath, ensureDashboardBuilt, launchBrowser, waitForTestId } from './helpers/browser';
import { CLASSES, imageFolder } from './helpers/image-folder';
import {
  COORDINATOR_CLI,
  epochs,
  expectTrainedTogether,
  readMetrics,
  ROOT,
  runCli,
  startCliStreaming,
  startRun,
  steps,
  tempDir,
  WORKER_CLI,
} from './helpers/runs';

const PREDICT_CLI = path.join(ROOT, 'packages/standalone/src/cli/predict.ts');
const EVALUATE_CLI = path.join(ROOT, 'packages/standalone/src/cli/evaluate.ts');

/** CIFAR-100's layout with few images: coarse byte, fine byte, 3072 CHW pixels; the fine class sets the colour. */
function cifar100Folder(): string {
  const dir = path.join(tempDir('own-cifar100'), 'cifar-100-binary');
  mkdirSync(dir, { recursive: true });
  const random = mulberry32(5);
  const records = (count: number) => {
    const out = Buffer.alloc(count * 3074);
    for (let i = 0; i < count; i++) {
      const fine = i % 100;
      out[i * 3074] = fine % 20;
      out[i * 3074 + 1] = fine;
      for (let j = 0; j < 3072; j++) out[i * 3074 + 2 + j] = (fine * 37 + Math.floor(j / 1024) * 80 + Math.floor(random() * 20)) % 256;
    }
    return out;
  };
  writeFileSync(path.join(dir, 'train.bin'), records(600));
  writeFileSync(path.join(dir, 'test.bin'), records(200));
  writeFileSync(path.join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine_${i}`).join('\n'));
  writeFileSync(path.join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse_${i}`).join('\n'));
  return path.dirname(dir);
}

describe('training on your own images', () => {
  let dataDir: string;
  let runDir: string;
  let records: Awaited<ReturnType<typeof startRun>>['records'];

  beforeAll(async () => {
    dataDir = imageFolder();
    const args = ['--workers', '2', '--image-size', '20x24', '--model', 'tiny-cnn', '--epochs', '6', '--batch-size', '24', '--lr', '0.01', '--hash-every', '2'];
    const run = await startRun({ dataDir, runsDir: tempDir('own-runs'), name: 'folder', args: [...args, '--validation', '0'] });
    runDir = run.runDir;
    records = run.records;
  }, 300_000);

  it('2 workers keep identical weights, and the loss falls', () => {
    expectTrainedTogether(records);
    const byEpoch = epochs(records);
    expect(byEpoch).toHaveLength(6);
    expect(byEpoch.at(-1)!.test!.confusion).toHaveLength(9);
  });

  it('predict answers with the folder names, resizing any image to the model', async () => {
    const files = Object.keys(CLASSES).map((name) => path.join(dataDir, 'test', name, '3.jpg'));
    const r = await runCli(PREDICT_CLI, ['--model', path.join(runDir, 'model'), '--image', ...files, '--json', '--quiet'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { images: { file: string; top: { className: string }[] }[] };
    expect(answer.images.map((i) => i.top[0]!.className)).toEqual(Object.keys(CLASSES));

    const broken = path.join(tempDir('own-broken'), 'broken.jpg');
    writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const bad = await runCli(PREDICT_CLI, ['--model', path.join(runDir, 'model'), '--image', broken, '--quiet'], { timeoutMs: 60_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/broken\.jpg: not a readable PNG or JPEG image/);
  });

  it('evaluate reads the folder at the model size and agrees with the run', async () => {
    const r = await runCli(EVALUATE_CLI, ['--model', path.join(runDir, 'model'), '--data-dir', dataDir, '--views', 'one', '--json', '--quiet'], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const [one] = (JSON.parse(r.stdout) as { results: { accuracy: number; count: number }[] }).results;
    expect(one!.count).toBe(24);
    expect(one!.accuracy).toBeCloseTo(epochs(records).at(-1)!.test!.accuracy, 5);
  });

  it('a folder whose sizes differ needs --image-size, and the error names both files', async () => {
    const r = await runCli(
      path.join(ROOT, 'packages/coordinator/src/cli/start.ts'),
      ['--data-dir', dataDir, '--workers', '1', '--port', '0', '--runs-dir', tempDir('own-bad')],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\.(png|jpg) is \d+×\d+ but .*\.(png|jpg) is \d+×\d+; give --image-size HxW/);
  });
});

describe('CIFAR-100', () => {
  it('trains on 2 workers with its 100 fine classes: a 100 × 100 confusion matrix and the names in the model', async () => {
    const run = await startRun({
      dataDir: cifar100Folder(),
      runsDir: tempDir('own-c100-runs'),
      name: 'c100',
      args: ['--workers', '2', '--model', 'linear', '--epochs', '2', '--batch-size', '50', '--hash-every', '3'],
    });
    const last = epochs(run.records).at(-1)!;
    expect(last.test!.confusion).toHaveLength(100 * 100);
    expect(last.test!.count).toBe(200);
    for (const s of steps(run.records).filter((x) => x.hashes)) expect(new Set(s.hashes).size).toBe(1);
    expect(run.stderr + run.stdout).toMatch(/CIFAR-100 .*fine labels: 100 classes/);

    // The dashboard in Chromium: 100 classes are too many for a table, so it lists the most confused pairs.
    if (chromiumPath() === null && !process.env.CI) return;
    ensureDashboardBuilt();
    const feed = new MetricsFeed();
    for (const record of run.records) feed.publish(record);
    const server = await startDashboardServer({ host: '127.0.0.1', port: 0, feed });
    const browser = await launchBrowser({ width: 1280, height: 900 });
    try {
      await browser.page.goto(server.url);
      const pairs = await waitForTestId(browser.page, 'confusion-pairs');
      expect(await pairs.locator('tbody tr').count()).toBeGreaterThan(0);
      expect(await pairs.locator('tbody td').first().textContent()).toMatch(/^fine_\d+$/);
      expect(await byTestId(browser.page, 'confusion-large').textContent()).toMatch(/100 classes: too many to read as a 100 × 100 table/);
      expect(await byTestId(browser.page, 'confusion-weakest').locator('tbody tr').count()).toBe(15);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe('a worker with its own copy of the data', () => {
  it("reads --data-dir itself when its checksum is the run's (no upload); one read differently is uploaded to, and both train together", async () => {
    const dataDir = imageFolder();
    const runsDir = tempDir('own-copy-runs');
    const read = ['--data-dir', dataDir, '--image-size', '20x24'];
    const coordinator = startCliStreaming(COORDINATOR_CLI, [
      ...['--workers', '2', '--model', 'tiny-cnn', '--epochs', '2', '--batch-size', '24', '--hash-every', '1', '--validation', '0'],
      ...read,
      ...['--port', '0', '--runs-dir', runsDir, '--run-name', 'copy'],
    ]);
    const workers = [];
    try {
      const workerUrl = (await coordinator.waitForLine(/workers connect to (ws:\/\/\S+)/, 120_000))[1]!;
      // The same folder and flags: the same bytes. Another --image-size: other bytes, so the run's are uploaded.
      workers.push(startCliStreaming(WORKER_CLI, ['--coordinator', workerUrl, '--cpu', ...read]));
      workers.push(startCliStreaming(WORKER_CLI, ['--coordinator', workerUrl, '--cpu', '--data-dir', dataDir, '--image-size', '21x24']));
      const ended = await coordinator.exited;
      expect(ended.code, coordinator.output().slice(-3000)).toBe(0);
      const log = coordinator.output();
      expect(log.match(/read the same data itself \(checksum matches\): no upload/g)).toHaveLength(1);
      expect(log.match(/own data differs from the run's .*: uploading the run's/g)).toHaveLength(1);
      const outputs = workers.map((w) => w.output()).join('\n');
      expect(outputs).toMatch(/its data is this worker's own copy .*so none is uploaded/);
      expect(outputs).toMatch(/receiving 144 images/);
      const records = readMetrics(path.join(runsDir, 'copy'));
      const hashed = steps(records).filter((s) => s.hashes);
      expect(hashed.length).toBeGreaterThan(0);
      for (const s of hashed) expect(new Set(s.hashes).size).toBe(1);
    } finally {
      await Promise.all([coordinator, ...workers].map((p) => p.stop()));
    }
  }, 300_000);
});
