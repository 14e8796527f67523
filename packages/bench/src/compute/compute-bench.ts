import os from 'node:os';
import { augmentParamsFor, SEED_AUGMENT, buildModel, Replica } from '@gradsync/train';
import { backendRequests, selectBackend } from '@gradsync/backends';
import { mulberry32, median } from '@gradsync/core';

export interface ComputeBenchResult {
  backend: string;
  device: string;
  /** CPU threads it ran on: set for the backends measured per thread count (onednn). */
  threads?: number;
  model: string;
  batchSize: number;
  trainImagesPerSec: number;
  predictImagesPerSec: number;
  /** Timed repetitions after warm-up (the figure is their median). */
  trainReps: number;
  predictReps: number;
  trainStepMs: number[];
}

function randomBatch(n: number, seed: number) {
  const rnd = mulberry32(seed);
  const images = new Uint8Array(n * 3072).map(() => Math.floor(rnd() * 256));
  const labels = new Uint8Array(n).map(() => Math.floor(rnd() * 10));
  return { images, labels };
}

/**
 * Median train and predict img/s on the current backend: a full training step (augmentation,
 * forward, backward, packing, Adam) and a forward pass, after warm-up.
 */
export async function benchCompute(o: {
  model: string;
  batchSize: number;
  warmup: number;
  reps: number;
  backend: string;
  device: string;
  threads?: number;
}): Promise<ComputeBenchResult> {
  const replica = new Replica(buildModel(o.model, 1));
  const batch = randomBatch(o.batchSize, 7);
  const augment = Array.from({ length: o.batchSize }, (_, i) => augmentParamsFor(SEED_AUGMENT, 1, 0, i));
  const trainMs: number[] = [];
  for (let i = 0; i < o.warmup + o.reps; i++) {
    const t0 = performance.now();
    const out = await replica.computeStep({ ...batch, augment });
    replica.applySummed(out.buffer, out.count, 1e-3);
    if (i >= o.warmup) trainMs.push(performance.now() - t0);
  }
  const predictMs: number[] = [];
  for (let i = 0; i < o.warmup + o.reps; i++) {
    const t0 = performance.now();
    const p = await replica.predictProbabilities(batch.images, o.batchSize);
    if (p.length !== o.batchSize * 10) throw new Error('predict returned the wrong shape');
    if (i >= o.warmup) predictMs.push(performance.now() - t0);
  }
  replica.model.dispose();
  return {
    backend: o.backend,
    device: o.device,
    ...(o.threads != null ? { threads: o.threads } : {}),
    model: o.model,
    batchSize: o.batchSize,
    trainImagesPerSec: (o.batchSize * 1000) / median(trainMs),
    predictImagesPerSec: (o.batchSize * 1000) / median(predictMs),
    trainReps: o.reps,
    predictReps: o.reps,
    trainStepMs: trainMs.map((x) => Math.round(x * 10) / 10),
  };
}

/** The machine a benchmark ran on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.arch()}` };
}

/** Every backend `--backend` accepts, in its order (webgpu after wasm: without a GPU it runs on llvmpipe, slower than wasm). */
export const COMPUTE_BENCH_BACKENDS: readonly string[] = backendRequests.filter((b) => b !== 'auto');

/** Backends whose speed depends on --threads: measured once per thread count. */
export const THREADED_BACKENDS: readonly string[] = ['onednn'];

/** Thread counts a threaded backend is measured at when none are given: 1 and every core. */
export function defaultThreadCounts(cores: number = os.availableParallelism()): number[] {
  return [...new Set([1, cores])];
}

/** A result's name in the table: the backend, with its thread count for the threaded ones (`onednn×2`). */
export function computeLabel(r: Pick<ComputeBenchResult, 'backend' | 'threads'>): string {
  return r.threads != null ? `${r.backend}×${r.threads}` : r.backend;
}

export interface ComputeSuiteResult {
  model: string;
  batchSize: number;
  warmup: number;
  reps: number;
  results: ComputeBenchResult[];
  /** Backends that did not load, and the first line of why. */
  skipped: { backend: string; why: string }[];
}

/**
 * benchCompute on each backend of `backends` that loads, in order (the process's tfjs backend is
 * switched each time): a threaded backend (onednn) once per count of `threads` (default 1 and
 * every core), the others once. The pure-JS cpu backend trains at well under 1 img/s, so it gets
 * one step of at most 8 images without warm-up: enough to tell its order of magnitude.
 */
export async function benchComputeBackends(o: {
  model: string;
  batchSize: number;
  warmup: number;
  reps: number;
  backends: readonly string[];
  /** Thread counts for the threaded backends (default: defaultThreadCounts()). */
  threads?: readonly number[];
  log?: (line: string) => void;
}): Promise<ComputeSuiteResult> {
  const results: ComputeBenchResult[] = [];
  const skipped: { backend: string; why: string }[] = [];
  const runs = o.backends.flatMap((backend): { backend: string; threads?: number }[] =>
    THREADED_BACKENDS.includes(backend) ? (o.threads ?? defaultThreadCounts()).map((threads) => ({ backend, threads })) : [{ backend }],
  );
  const failed = new Set<string>();
  for (const { backend, threads } of runs) {
    // A backend that did not load is reported once, not once per thread count.
    if (failed.has(backend)) continue;
    let sel;
    try {
      sel = await selectBackend({ backend: backend as never, gpu: backend === 'tensorflow-gpu' ? 0 : undefined, threads });
    } catch (err) {
      skipped.push({ backend, why: (err as Error).message.split('\n')[0] });
      failed.add(backend);
      continue;
    }
    // Like the cpu backend, webgpu on a software rasteriser (Mesa's llvmpipe, no GPU; its device
    // label starts 'CPU (') gets one small step: it trains at 1-2 img/s. It gets one warm-up step
    // first, which compiles its shaders (~10 s there).
    const slow = backend === 'cpu' || sel.softwareRasteriser;
    o.log?.(`benchmarking ${sel.name} (${sel.device})...`);
    try {
      results.push(
        await benchCompute({
          model: o.model,
          batchSize: slow ? Math.min(8, o.batchSize) : o.batchSize,
          warmup: slow ? (sel.softwareRasteriser ? 1 : 0) : o.warmup,
          reps: slow ? 1 : o.reps,
          backend: sel.name,
          device: sel.device,
          threads,
        }),
      );
    } catch (err) {
      skipped.push({ backend: computeLabel({ backend, threads }), why: `loaded, but the benchmark failed: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  return { model: o.model, batchSize: o.batchSize, warmup: o.warmup, reps: o.reps, results, skipped };
}

/** The results as a text table, one backend a row, then the ones that did not load. */
export function formatComputeTable(suite: ComputeSuiteResult): string {
  const lines = [`${'backend'.padEnd(12)}${'device'.padEnd(34)}${'train img/s'.padStart(12)}${'predict img/s'.padStart(15)}`];
  for (const r of suite.results) {
    lines.push(
      `${computeLabel(r).padEnd(12)}${r.device.slice(0, 33).padEnd(34)}${r.trainImagesPerSec.toFixed(1).padStart(12)}${r.predictImagesPerSec.toFixed(1).padStart(15)}` +
        `${r.batchSize !== suite.batchSize ? `  (batch ${r.batchSize}, ${r.trainReps} step)` : ''}`,
    );
  }
  // The first clause of why is enough on screen; the JSON keeps the whole line.
  for (const s of suite.skipped) lines.push(`${s.backend.padEnd(15)} not measured: ${s.why.split(/; |\. /)[0]}`);
  return lines.join('\n');
}
