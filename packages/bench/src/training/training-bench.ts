/**
 * End-to-end training throughput: `pnpm start` (a coordinator and N worker processes, real
 * sockets on loopback) on a synthetic data set of CIFAR-10's shape, read back from the run's
 * metrics.jsonl. One run per worker count, one after the other, all at the same global batch, so
 * the N-worker figure compares with N times the 1-worker ("solo") figure.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GradsyncError } from '@gradsync/core';
import { threadsPerProcess } from '@gradsync/train/node';
import { makeSyntheticCifar10, writeCifar10Binary } from '@gradsync/data';
import { readJsonl, type RunRecord, type StepRecord, type WorkerRecord } from '@gradsync/metrics';
import { steadyState, type SteadyState } from './steady-state';
import { tsxCliArgs } from './tsx-cli';

/** `pnpm start`, found through the coordinator package's exports and spawned as a process. */
/** `pnpm start`, found through the coordinator package's exports. */
const START_CLI = pathToFileURL(createRequire(import.meta.url).resolve('@gradsync/coordinator/cli/start'));

export interface TrainingBenchOptions {
  model: string;
  /** Global batch, the same in every run. */
  batchSize: number;
  /** Synthetic training images, of which the last `validationImages` are held out. */
  trainImages: number;
  validationImages: number;
  testImages: number;
  epochs: number;
  /** First steps of each run left out of the steady state. */
  warmupSteps: number;
  /** Worker counts to run; must include 1 for the scaling ratios. */
  workerCounts: number[];
  allreduce: 'ring' | 'star';
  /** --worker-backend of every run (default: auto, the backend auto picks). */
  workerBackend?: string;
  /** --split of every run (default: the run's default, speed). */
  split?: 'equal' | 'speed';
  /** More `pnpm start` flags for every run (e.g. --sync-bn). */
  extraArgs?: string[];
  /** Added to the run folders' names, to tell runs of different flags apart. */
  runLabel?: string;
  /** Per run. */
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface TrainingRunResult {
  workers: number;
  /** --threads of each worker: the cores shared out among the workers (only onednn uses it; absent in reports from before the flag). */
  threads?: number;
  /** 'none' with one worker. */
  allreduce: 'ring' | 'star' | 'none';
  backend: string;
  device: string;
  /** --split of the run (absent in reports from before the flag). */
  split?: 'equal' | 'speed';
  totalSteps: number;
  /** Wall time of the whole `pnpm start` process, start-up and evaluation included. */
  processSec: number;
  steady: SteadyState;
}

export interface ScalingResult {
  workers: number;
  /** The N-worker run's median per-step global img/s. */
  imagesPerSec: number;
  /** N × the 1-worker run's median per-step img/s (solo: one worker alone at the same global batch). */
  sumOfSolo: number;
  /** imagesPerSec / sumOfSolo. */
  ratio: number;
  /** The same ratio from total images / total time of the steady steps. */
  meanRatio: number;
}

export interface TrainingBenchResult {
  model: string;
  batchSize: number;
  epochs: number;
  warmupSteps: number;
  dataset: { train: number; validation: number; test: number; source: string };
  runs: TrainingRunResult[];
  scaling: ScalingResult[];
}

function runStart(args: string[], timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string; sec: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Its own process group, so a run past its time goes down with its workers.
    const child = spawn(process.execPath, tsxCliArgs(START_CLI, args), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let tail = '';
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderrTail: tail, sec: (performance.now() - t0) / 1000 });
    });
  });
}

/** Scaling of each multi-worker run against the 1-worker run. */
export function scalingOf(runs: readonly TrainingRunResult[]): ScalingResult[] {
  const solo = runs.find((r) => r.workers === 1);
  if (!solo) return [];
  return runs
    .filter((r) => r.workers > 1)
    .map((r) => {
      const sumOfSolo = r.workers * solo.steady.medianImagesPerSec;
      return {
        workers: r.workers,
        imagesPerSec: r.steady.medianImagesPerSec,
        sumOfSolo,
        ratio: r.steady.medianImagesPerSec / sumOfSolo,
        meanRatio: r.steady.meanImagesPerSec / (r.workers * solo.steady.meanImagesPerSec),
      };
    });
}

export async function benchTraining(o: TrainingBenchOptions): Promise<TrainingBenchResult> {
  const log = o.log ?? (() => {});
  const stepsPerEpoch = Math.ceil((o.trainImages - o.validationImages) / o.batchSize);
  if (stepsPerEpoch * o.epochs <= o.warmupSteps) {
    throw new GradsyncError('E_BENCH_ARG', `${stepsPerEpoch * o.epochs} steps in all would leave none after ${o.warmupSteps} warm-up steps`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-bench-'));
  try {
    const dataDir = path.join(dir, 'data');
    const runsDir = path.join(dir, 'runs');
    const data = makeSyntheticCifar10({ train: o.trainImages, test: o.testImages, seed: 11 });
    await writeCifar10Binary(dataDir, data);
    const runs: TrainingRunResult[] = [];
    for (const workers of o.workerCounts) {
      const name = `bench-${workers}w${o.split ? `-${o.split}` : ''}${o.runLabel ? `-${o.runLabel}` : ''}`;
      const threads = threadsPerProcess(workers);
      const extra = [...(o.workerBackend ? ['--worker-backend', o.workerBackend] : []), ...(o.split ? ['--split', o.split] : []), ...(o.extraArgs ?? [])];
      log(
        `training: pnpm start --workers ${workers} --threads ${threads} ${extra.join(' ')}, ${o.trainImages - o.validationImages} images × ${o.epochs} epoch(s)...`,
      );
      const args = [
        '--workers',
        String(workers),
        '--threads',
        String(threads),
        '--allreduce',
        o.allreduce,
        '--model',
        o.model,
        '--batch-size',
        String(o.batchSize),
        '--epochs',
        String(o.epochs),
        '--validation',
        String(o.validationImages),
        '--data-dir',
        dataDir,
        '--runs-dir',
        runsDir,
        '--run-name',
        name,
        '--port',
        '0',
        ...extra,
      ];
      const out = await runStart(args, o.timeoutMs);
      if (out.code !== 0) {
        const why = out.signal === 'SIGKILL' ? `did not finish within ${o.timeoutMs / 1000} s` : `exited with ${out.signal ?? `code ${out.code}`}`;
        throw new GradsyncError('E_BENCH', `pnpm start --workers ${workers} ${why}; its last output:\n${out.stderrTail}`);
      }
      const { records } = readJsonl(path.join(runsDir, name, 'metrics.jsonl'));
      const steps = records.filter((r): r is StepRecord => r.kind === 'step');
      const worker = records.find((r): r is WorkerRecord => r.kind === 'worker');
      const run = records.find((r): r is RunRecord => r.kind === 'run');
      const result: TrainingRunResult = {
        workers,
        threads,
        allreduce: workers > 1 ? o.allreduce : 'none',
        backend: o.workerBackend ?? worker?.backend ?? 'unknown',
        device: worker?.device ?? 'unknown',
        ...(o.split ? { split: o.split } : {}),
        totalSteps: steps.length,
        processSec: out.sec,
        steady: steadyState(steps, o.warmupSteps),
      };
      if (run && run.stepsPerEpoch * o.epochs !== steps.length) {
        throw new GradsyncError('E_BENCH', `run ${name} recorded ${steps.length} steps, expected ${run.stepsPerEpoch * o.epochs}`);
      }
      log(`  ${workers} worker(s): ${result.steady.medianImagesPerSec.toFixed(1)} img/s (median of ${result.steady.steps} steps)`);
      runs.push(result);
    }
    return {
      model: o.model,
      batchSize: o.batchSize,
      epochs: o.epochs,
      warmupSteps: o.warmupSteps,
      dataset: { train: o.trainImages - o.validationImages, validation: o.validationImages, test: o.testImages, source: data.source },
      runs,
      scaling: scalingOf(runs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
