/**
 * `pnpm bench`: compute, all-reduce and end-to-end training figures in one report. Each part
 * reuses its own benchmark (benchComputeBackends, benchAllReduce, benchTraining); this module
 * picks their settings for a full or a --quick run and checks the targets.
 */
import { loadavg } from 'node:os';
import { selectBackend } from '@gradsync/backends';
import { buildModel, Replica } from '@gradsync/train';
import { benchAllReduce, SEED_CNN_GRADIENT_BYTES } from '../allreduce/bench-allreduce';
import { benchComputeBackends, COMPUTE_BENCH_BACKENDS, machineInfo } from '../compute/compute-bench';
import { type BenchReport, checkTargets } from './bench-report';
import { benchBrowserTab } from './browser-tab-bench';
import { benchMixedSpeeds } from './mixed-speeds';
import { benchParallelCompute } from './parallel-compute';
import { benchSyncBnCost } from './sync-bn-cost';
import { benchTraining, scalingOf } from './training-bench';

export type BenchPart = 'compute' | 'allreduce' | 'training' | 'mixed' | 'browser' | 'sync-bn';
export const BENCH_PARTS: readonly BenchPart[] = ['compute', 'allreduce', 'training', 'mixed', 'browser', 'sync-bn'];

export interface RunBenchOptions {
  /** Seconds instead of minutes: tiny sizes, 2 workers, a small synthetic set, 1 repetition. */
  quick?: boolean;
  /** Parts to run (default all). */
  parts?: readonly BenchPart[];
  model?: string;
  /** Training epochs of the end-to-end runs (default 1). */
  epochs?: number;
  /** Synthetic training images of the end-to-end runs, before the validation split (default 6,656: 6,400 train + 256 validation). */
  trainImages?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export async function runBench(options: RunBenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const parts = new Set(options.parts ?? BENCH_PARTS);
  const model = options.model ?? 'seed-cnn';
  const log = options.log ?? (() => {});
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();

  const auto = await selectBackend({ backend: 'auto' });
  const probe = buildModel(model, 1);
  const gradientFloats = new Replica(probe).bufferLength;
  probe.dispose();

  let compute: BenchReport['compute'] = null;
  if (parts.has('compute')) {
    log('compute...');
    // Quick: only the fast backends `auto` can pick without --gpu (the pure-JS one takes ~20 s a
    // step, webgpu on a software rasteriser ~10 s to compile), the pure-JS one if none loads.
    // onednn is measured at 1 thread and at every core (one process alone here).
    const backends = quick ? COMPUTE_BENCH_BACKENDS.filter((b) => b === 'tensorflow' || b === 'onednn' || b === 'wasm') : COMPUTE_BENCH_BACKENDS;
    const settings = quick ? { warmup: 1, reps: 1 } : { warmup: 3, reps: 15 };
    compute = await benchComputeBackends({ model, batchSize: 64, ...settings, backends, log });
    if (compute.results.length === 0 && quick) {
      compute = await benchComputeBackends({ model, batchSize: 64, ...settings, backends: ['cpu'], log });
    }
    // Later parts run in other processes; leave this one on the backend auto picks.
    await selectBackend({ backend: 'auto' });
  }

  let allreduce: BenchReport['allreduce'] = null;
  if (parts.has('allreduce')) {
    log('all-reduce...');
    const results = await benchAllReduce(
      quick
        ? { quick: true, repeats: 1, warmup: 1 }
        : { sizesBytes: [64 * KiB, SEED_CNN_GRADIENT_BYTES, MiB, 16 * MiB, 64 * MiB], worlds: [2, 3, 4], tlsRing: true, log },
    );
    allreduce = { results };
  }

  const validationImages = quick ? 64 : 256;
  const trainingSettings = {
    model,
    trainImages: options.trainImages ?? (quick ? 6 * 64 + validationImages : 6400 + validationImages),
    validationImages,
    testImages: quick ? 64 : 256,
    epochs: options.epochs ?? 1,
    allreduce: 'ring' as const,
    timeoutMs: quick ? 180_000 : 600_000,
    log,
  };
  let training: BenchReport['training'] = null;
  let ceiling: BenchReport['ceiling'] = null;
  let weakScaling: BenchReport['weakScaling'] = null;
  if (parts.has('training')) {
    // Each process gets the cores shared out among the processes side by side (--threads, onednn only).
    log('compute ceiling: 1 and 2 compute-only processes side by side...');
    const settings = { model, backend: auto.name, ...(quick ? { warmup: 1, reps: 1 } : { warmup: 3, reps: 15 }) };
    ceiling = {
      solo: await benchParallelCompute({ ...settings, batchSize: 64, processes: 1 }),
      sameBatch: await benchParallelCompute({ ...settings, batchSize: 64, processes: 2 }),
      splitBatch: await benchParallelCompute({ ...settings, batchSize: 32, processes: 2 }),
    };
    // Strong scaling: the recipe's global batch of 64, split across the workers.
    // Identical workers split equally: figures comparable with earlier reports (the mixed part measures --split speed).
    training = await benchTraining({ ...trainingSettings, split: 'equal', batchSize: 64, warmupSteps: quick ? 2 : 5, workerCounts: [1, 2] });
    // Weak scaling, as DDP and Horovod usually report it: 64 per worker, so a global batch of 128.
    const weakRun = await benchTraining({ ...trainingSettings, split: 'equal', batchSize: 128, warmupSteps: quick ? 1 : 3, workerCounts: [2] });
    const solo = training.runs.find((r) => r.workers === 1)!;
    weakScaling = { globalBatch: 128, run: weakRun.runs[0], ...scalingOf([solo, weakRun.runs[0]])[0] };
  }

  let mixedSpeeds: BenchReport['mixedSpeeds'] = null;
  if (parts.has('mixed')) {
    log(`mixed speeds: an onednn and a wasm worker, --split equal then --split speed...`);
    // The speed split needs a few steps to measure the workers: more warm-up than the other runs.
    mixedSpeeds = await benchMixedSpeeds({ ...trainingSettings, batchSize: 64, warmupSteps: quick ? 3 : 8 });
    if ('skipped' in mixedSpeeds) log(`  skipped: ${mixedSpeeds.skipped}`);
  }

  let browserTab: BenchReport['browserTab'] = null;
  if (parts.has('browser')) {
    log('browser tab: a Node worker and a tab in headless Chromium (star), then two Node workers (star, ring), all wasm...');
    browserTab = await benchBrowserTab({ ...trainingSettings, batchSize: 64, split: 'speed', warmupSteps: quick ? 3 : 8 });
    if ('skipped' in browserTab) log(`  skipped: ${browserTab.skipped}`);
  }

  let syncBatchNorm: BenchReport['syncBatchNorm'] = null;
  if (parts.has('sync-bn')) {
    log('synchronised BatchNorm: 2 workers, per-worker statistics then --sync-bn...');
    syncBatchNorm = await benchSyncBnCost({ ...trainingSettings, batchSize: 64, split: 'equal', warmupSteps: quick ? 2 : 5 });
    if ('skipped' in syncBatchNorm) log(`  skipped: ${syncBatchNorm.skipped}`);
  }

  return {
    quick,
    startedAt,
    wallSec: (performance.now() - started) / 1000,
    machine: { ...machineInfo(), backend: auto.name, device: auto.device, loadAvgStart, loadAvgEnd: loadavg() },
    gradientFloats,
    compute,
    allreduce,
    training,
    ceiling,
    weakScaling,
    mixedSpeeds,
    browserTab,
    syncBatchNorm,
    targets: checkTargets({ allreduce, training, mixedSpeeds, ceiling }),
  };
}
