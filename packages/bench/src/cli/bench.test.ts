import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../training/bench-report';

const BENCH_CLI = fileURLToPath(new URL('./bench.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function runBenchCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, BENCH_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A figure: present, a number, finite and above zero. */
function expectFigure(value: unknown, what: string): void {
  expect(typeof value, what).toBe('number');
  expect(Number.isFinite(value), `${what} = ${value}`).toBe(true);
  expect(value as number, what).toBeGreaterThan(0);
}

// Real processes throughout (forked all-reduce ranks, `pnpm start` runs); no wall-clock thresholds.
describe('pnpm bench --quick --json', () => {
  it('reports every figure, positive and finite, and the table on stderr', { timeout: 300_000 }, async () => {
    const run = await runBenchCli(['--quick', '--json']);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;

    expect(report.quick).toBe(true);
    expectFigure(report.machine.cpus, 'machine.cpus');
    for (const key of ['cpuModel', 'node', 'platform', 'backend', 'device'] as const) expect(report.machine[key], key).toMatch(/\S/);
    expectFigure(report.gradientFloats, 'gradientFloats');

    // compute: at least the backend auto picks, with both figures.
    const compute = report.compute!;
    expect(compute.results.length).toBeGreaterThan(0);
    expect(compute.results.map((r) => r.backend)).toContain(report.machine.backend);
    for (const r of compute.results) {
      expectFigure(r.trainImagesPerSec, `${r.backend} train img/s`);
      expectFigure(r.predictImagesPerSec, `${r.backend} predict img/s`);
    }
    // onednn, where it loads: once at 1 thread and once at every core; the others once, without a thread count.
    const cores = availableParallelism();
    const onednn = compute.results.filter((r) => r.backend === 'onednn');
    if (onednn.length > 0) expect(onednn.map((r) => r.threads)).toEqual([...new Set([1, cores])]);
    for (const r of compute.results.filter((x) => x.backend !== 'onednn')) expect(r.threads, r.backend).toBeUndefined();

    // all-reduce: raw TCP, raw ws, ring and star at each size, exact sums.
    const allreduce = report.allreduce!.results;
    expect(new Set(allreduce.map((r) => r.kind))).toEqual(new Set(['raw-tcp', 'raw', 'ring', 'star']));
    for (const r of allreduce) {
      for (const key of ['medianMs', 'algbwGBps', 'busbwGBps', 'rawGBps', 'busbwOverRaw', 'tcpGBps', 'busbwOverTcp'] as const)
        expectFigure(r[key], `${r.kind} ${r.bytes} B × ${r.world} ${key}`);
      expect(r.verified).toBe(true);
    }

    // end to end: a 1-worker and a 2-worker run, the split of every rank, the scaling ratio.
    const training = report.training!;
    expect(training.runs.map((r) => r.workers)).toEqual([1, 2]);
    // Workers side by side share the cores out (--threads of pnpm start).
    expect(training.runs.map((r) => r.threads)).toEqual([cores, Math.max(1, Math.floor(cores / 2))]);
    for (const run of training.runs) {
      const s = run.steady;
      for (const key of ['steps', 'globalBatch', 'medianImagesPerSec', 'meanImagesPerSec', 'medianStepMs'] as const)
        expectFigure(s[key], `${run.workers} workers ${key}`);
      expect(s.ranks.map((k) => k.rank)).toEqual(Array.from({ length: run.workers }, (_, i) => i));
      for (const k of s.ranks) {
        for (const key of ['samples', 'computeMs', 'waitMs'] as const) expectFigure(k[key], `${run.workers} workers rank ${k.rank} ${key}`);
        // One worker has nothing to reduce: its all-reduce takes ~0 ms and may round to 0.
        if (run.workers > 1) expectFigure(k.allreduceMs, `${run.workers} workers rank ${k.rank} allreduceMs`);
        else expect(k.allreduceMs).toBeGreaterThanOrEqual(0);
      }
      if (run.workers > 1) expectFigure(s.allreduceShare, `${run.workers} workers allreduceShare`);
    }
    expect(training.scaling).toHaveLength(1);
    for (const key of ['imagesPerSec', 'sumOfSolo', 'ratio', 'meanRatio'] as const) expectFigure(training.scaling[0][key], `scaling ${key}`);

    // Weak scaling: 2 workers at 64 each, a global batch of 128, compared with the solo run.
    const weak = report.weakScaling!;
    expect([weak.workers, weak.globalBatch, weak.run.steady.globalBatch]).toEqual([2, 128, 128]);
    expect(weak.run.steady.ranks.map((k) => k.samples)).toEqual([64, 64]);
    expect(weak.ratio).toBeCloseTo(weak.imagesPerSec / (2 * training.runs[0].steady.medianImagesPerSec), 9);
    expectFigure(weak.ratio, 'weak scaling ratio');

    // Compute ceiling: one process alone, two side by side at the solo batch and at half of it.
    const { solo, sameBatch, splitBatch } = report.ceiling!;
    expect([solo, sameBatch, splitBatch].map((c) => [c.processes, c.batchSize])).toEqual([
      [1, 64],
      [2, 64],
      [2, 32],
    ]);
    for (const c of [solo, sameBatch, splitBatch]) {
      expect(c.threads).toBe(Math.max(1, Math.floor(cores / c.processes)));
      expect(c.perProcess).toHaveLength(c.processes);
      c.perProcess.forEach((x, i) => expectFigure(x, `${c.processes} × batch ${c.batchSize} process ${i}`));
      expect(c.total).toBeCloseTo(
        c.perProcess.reduce((a, b) => a + b, 0),
        6,
      );
    }

    // Mixed speeds (where onednn loads): the same 2-worker run split equally, then by speed.
    const mixed = report.mixedSpeeds!;
    if (!('skipped' in mixed)) {
      expect([mixed.equal.split, mixed.speed.split]).toEqual(['equal', 'speed']);
      expect(mixed.equal.steady.ranks.map((k) => k.samples)).toEqual([32, 32]);
      expect(mixed.speed.steady.ranks.reduce((a, k) => a + k.samples, 0)).toBeGreaterThan(0);
      expect(mixed.ratio).toBeCloseTo(mixed.speed.steady.medianImagesPerSec / mixed.equal.steady.medianImagesPerSec, 9);
      expectFigure(mixed.ratio, 'mixed speeds ratio');
      expect(run.stderr).toMatch(/speed \/ equal: \d+\.\d\d×/);
    } else expect(mixed.skipped).toMatch(/onednn/);

    // A browser tab (where Chromium is): a Node worker and a tab over the star, two Node workers over star and ring.
    const tab = report.browserTab!;
    if (!('skipped' in tab)) {
      expect(tab.tab.host).toMatch(/^browser tab \(/);
      expect(tab.tab.device).toMatch(/^browser \(wasm/);
      expect([tab.nodeAndTabStar, tab.nodeNodeStar, tab.nodeNodeRing].map((r) => r.allreduce)).toEqual(['star', 'star', 'ring']);
      for (const r of [tab.nodeAndTabStar, tab.nodeNodeStar, tab.nodeNodeRing]) {
        expect(r.steady.ranks).toHaveLength(2);
        expectFigure(r.steady.medianImagesPerSec, `${r.members} ${r.allreduce} img/s`);
      }
      expect(tab.nodeAndTabStar.members).toMatch(/tab \(wasm\)/);
      expect(run.stderr).toMatch(/node \+ tab \(star\) \/ node \+ node \(ring\): \d+\.\d\d×/);
    } else expect(tab.skipped).toMatch(/Chromium/);

    // Synchronised BatchNorm: the same 2-worker run without and with --sync-bn.
    const syncBn = report.syncBatchNorm!;
    expect('skipped' in syncBn).toBe(false);
    if (!('skipped' in syncBn)) {
      for (const r of [syncBn.perWorker, syncBn.synced]) {
        expect(r.workers).toBe(2);
        expect(r.steady.ranks.map((k) => k.samples)).toEqual([32, 32]);
      }
      expect(syncBn.ratio).toBeCloseTo(syncBn.synced.steady.medianImagesPerSec / syncBn.perWorker.steady.medianImagesPerSec, 9);
      expectFigure(syncBn.ratio, 'sync-bn ratio');
      expect(run.stderr).toMatch(/--sync-bn \/ per-worker: \d+\.\d\d× the img\/s, [+-]\d+\.\d ms a step/);
    }

    // Targets: the scaling one is measured even in quick mode; the 16 MiB × 4 one is not.
    const scalingTarget = report.targets.find((t) => t.what.startsWith('2 workers'))!;
    expectFigure(scalingTarget.value, 'scaling target');
    expect(report.targets.filter((t) => t.what.includes('16 MiB')).every((t) => t.value === null && t.met === null)).toBe(true);

    expect(run.stderr).toMatch(/^machine: .+ backend /m);
    expect(run.stderr).toMatch(/busbw\/ws +busbw\/tcp/);
    expect(run.stderr).toMatch(/2 workers: .* of 2 × solo/);
    expect(run.stderr).toMatch(/weak scaling .*\n {2}2 workers: .* of 2 × solo/);
    expect(run.stderr).toMatch(/2 process\(es\) × batch 32: .* of 2 × solo/);
    expect(run.stderr).toMatch(/2 workers end to end reach .* of the 2 × batch 32 ceiling/);
  });
});
