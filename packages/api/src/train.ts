import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { dataFlagsFromRead, launchCoordinator, planLocalWorkers, spawnWorkers, visibleGpus } from '@gradsync/coordinator';
import type { DataReadOptions } from '@gradsync/data';
import type { EndRecord, MetricRecord } from '@gradsync/metrics';
import { BUILDER_PREFIX, isModelSpec, type RecipeName, type RunConfig } from '@gradsync/train';
import { type ModelBuilder, recipeFromOptions } from '@gradsync/train/node';

export interface TrainOptions {
  /**
   * The network: a zoo name ('resnet9', …), the path of a tfjs Layers model.json or a JS/TS module
   * (as `--model` takes them), or a function that builds it from `{ tf, inputShape, numClasses }`.
   */
  model: string | ModelBuilder;
  /** The data folder: CIFAR-10 or CIFAR-100 binaries, or an image folder (`--data-dir`). */
  data: string;
  /** How to read `data` (format, image size, channels, labels), as the --data-format, --image-size … flags. */
  dataRead?: DataReadOptions;
  /** Local worker processes (default 2). */
  workers?: number;
  /** Worker backend, as --worker-backend (default 'auto'). */
  backend?: string;
  /** The preset the other settings start from (default the seed recipe). */
  recipe?: RecipeName;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Any other run setting, as the run's config.json names it (over the recipe and the fields above). */
  config?: Partial<RunConfig>;
  /** Where run folders go (default ./runs). */
  runsDir?: string;
  runName?: string;
  /** The coordinator's port on 127.0.0.1 (default 0: any free port); the dashboard is served there while the run lasts. */
  port?: number;
  /** Called with every metric record (steps, epochs, the end) as the run publishes it. */
  onRecord?: (record: MetricRecord) => void;
  /** Progress lines (default: stderr). */
  log?: (level: 'info' | 'warn' | 'error', line: string) => void;
}

export interface TrainResult {
  status: EndRecord['status'];
  /** The final test accuracy (null when the run did not evaluate). */
  testAccuracy: number | null;
  epochs: number;
  steps: number;
  wallSec: number;
  runDir: string;
  /** The exported model (model.json + weights.bin), for `predict`, `evaluate` or tfjs' loadLayersModel. */
  modelDir: string;
  /** The dashboard's address while the run was going. */
  dashboardUrl: string;
}

function defaultLog(level: 'info' | 'warn' | 'error', line: string): void {
  process.stderr.write(`${level === 'info' ? '' : `${level}: `}${line}\n`);
}

/** The run's settings, checked as the command line checks them: a bad value is an error naming it. */
function runConfigFrom(o: TrainOptions): RunConfig {
  if (o.config?.model !== undefined) throw new GradsyncError('E_FLAG', 'train(): give the network as model, not config.model');
  let model: string;
  if (typeof o.model === 'function') model = `${BUILDER_PREFIX}${(o.model.name || 'model').replace(/[^\w.-]/g, '_').slice(0, 100)}`;
  else if (isModelSpec(o.model)) model = o.model;
  else throw new GradsyncError('E_FLAG', `train(): model must be a zoo name, a model.json or module path, or a builder function, got "${String(o.model)}"`);
  return recipeFromOptions({ recipe: o.recipe, model, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, runName: o.runName }, o.config);
}

/**
 * Trains a network on a data folder with a coordinator in this process and `workers` local worker
 * processes, exactly as `gradsync start` does (the same sharding, all-reduce, checkpoints, run
 * folder and dashboard). Resolves when the run ends; rejects with the reason it failed.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? defaultLog;
  const workers = o.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1) throw new GradsyncError('E_FLAG', `train(): workers must be an integer ≥ 1, got ${workers}`);
  const config = runConfigFrom(o);
  const launched = await launchCoordinator({
    config,
    host: '127.0.0.1',
    port: o.port ?? 0,
    workers,
    runsDir: path.resolve(o.runsDir ?? 'runs'),
    dataDir: o.data,
    dataRead: o.dataRead,
    dataFlags: dataFlagsFromRead(o.data, o.dataRead),
    log,
    modelBuilder: typeof o.model === 'function' ? o.model : undefined,
    onRecord: o.onRecord,
  });
  log('info', `dashboard: ${launched.dashboardUrl}`);
  let processes: ReturnType<typeof spawnWorkers> | undefined;
  try {
    const plan = planLocalWorkers({ workers, gpus: visibleGpus(), workerUrl: launched.workerUrl, backend: o.backend ?? 'auto' });
    processes = spawnWorkers(plan.args, { ...process.env, GRADSYNC_TOKEN: '' });
    // Workers that all exit before the run ends (a backend that cannot load, a crash) would leave it
    // waiting for them; the grace lets a run that just ended (workers leave on its last message) report first.
    const ended = launched.done.then(
      (end) => ({ end }),
      (error: unknown) => ({ error }),
    );
    const workersGone = processes.exited.then(async (exits) => {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return { exits };
    });
    const first = await Promise.race([ended, workersGone]);
    if ('error' in first) throw first.error;
    if ('exits' in first) {
      throw new GradsyncError(
        'E_WORKERS_EXITED',
        `every worker process exited before the run ended (${first.exits.map((e) => `worker ${e.index}: ${e.signal ?? `code ${e.code}`}`).join(', ')}); their lines above say why`,
      );
    }
    const { end } = first;
    await Promise.race([processes.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    return {
      status: end.status,
      testAccuracy: end.test?.accuracy ?? null,
      epochs: end.epochs,
      steps: end.steps,
      wallSec: end.wallSec,
      runDir: launched.runDir,
      modelDir: path.join(launched.runDir, 'model'),
      dashboardUrl: launched.dashboardUrl,
    };
  } finally {
    processes?.signal('SIGTERM');
    await launched.close();
  }
}
