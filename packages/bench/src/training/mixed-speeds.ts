/**
 * Workers of different speeds: one onednn worker and one wasm worker (several times slower on
 * seed-cnn), the same global batch, run once with --split equal and once with --split speed.
 * With equal shares every step waits for the wasm worker; with speed shares each takes what it
 * computes in about the same time, so the step ends sooner.
 */
import { nodeBackendHost } from '@gradsync/backends';
import { benchTraining, type TrainingBenchOptions, type TrainingRunResult } from './training-bench';

/** One fast and one slow backend, worker 0 and worker 1. */
export const MIXED_BACKENDS = 'onednn,wasm';

export interface MixedSpeedsResult {
  workerBackend: string;
  equal: TrainingRunResult;
  speed: TrainingRunResult;
  /** Median per-step global img/s, speed over equal. */
  ratio: number;
  /** The same from total images / total time of the steady steps. */
  meanRatio: number;
}

export type MixedSpeedsOptions = Omit<TrainingBenchOptions, 'workerCounts' | 'workerBackend' | 'split'>;

/** Skipped (with why) where onednn does not load: two wasm workers run at the same speed. */
export async function benchMixedSpeeds(o: MixedSpeedsOptions): Promise<MixedSpeedsResult | { skipped: string }> {
  const onednn = nodeBackendHost.loadOneDnn();
  if (!onednn.ok) return { skipped: `the onednn backend does not load here (${onednn.why}), so no fast worker to mix with wasm` };
  const run = async (split: 'equal' | 'speed') => (await benchTraining({ ...o, workerCounts: [2], workerBackend: MIXED_BACKENDS, split })).runs[0];
  const equal = await run('equal');
  const speed = await run('speed');
  return {
    workerBackend: MIXED_BACKENDS,
    equal,
    speed,
    ratio: speed.steady.medianImagesPerSec / equal.steady.medianImagesPerSec,
    meanRatio: speed.steady.meanImagesPerSec / equal.steady.meanImagesPerSec,
  };
}
