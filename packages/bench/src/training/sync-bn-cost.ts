/**
 * What synchronised BatchNorm costs: the same 2-worker run of a BatchNorm model, once with each
 * worker normalising over its own share and once with --sync-bn (statistics over the global
 * batch: two small all-reduces per BatchNorm layer and each segment's forward run again for
 * its backward).
 */
import { SYNC_BN_MODELS } from '@gradsync/train';
import { benchTraining, type TrainingBenchOptions, type TrainingRunResult } from './training-bench';

export interface SyncBnCostResult {
  perWorker: TrainingRunResult;
  synced: TrainingRunResult;
  /** Median per-step global img/s, synced over per-worker (below 1: what --sync-bn costs). */
  ratio: number;
  /** Median step time added by --sync-bn, ms. */
  addedStepMs: number;
}

export type SyncBnCostOptions = Omit<TrainingBenchOptions, 'workerCounts' | 'extraArgs' | 'runLabel'>;

/** Skipped (with why) for a model --sync-bn does not run. */
export async function benchSyncBnCost(o: SyncBnCostOptions): Promise<SyncBnCostResult | { skipped: string }> {
  if (!SYNC_BN_MODELS.includes(o.model as never)) return { skipped: `--sync-bn runs only ${SYNC_BN_MODELS.join(', ')}, not ${o.model}` };
  const perWorker = (await benchTraining({ ...o, workerCounts: [2], runLabel: 'per-worker-bn' })).runs[0]!;
  const synced = (await benchTraining({ ...o, workerCounts: [2], extraArgs: ['--sync-bn'], runLabel: 'sync-bn' })).runs[0]!;
  return {
    perWorker,
    synced,
    ratio: synced.steady.medianImagesPerSec / perWorker.steady.medianImagesPerSec,
    addedStepMs: synced.steady.medianStepMs - perWorker.steady.medianStepMs,
  };
}
