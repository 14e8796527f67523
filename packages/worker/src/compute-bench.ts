import { augmentParamsFor, SEED_AUGMENT } from '@gradsync/core/augment';
import { buildModel } from '@gradsync/core/model';
import { mulberry32 } from '@gradsync/core/random';
import { Replica } from '@gradsync/core/train';

export interface ComputeBenchResult {
  backend: string;
  device: string;
  model: string;
  batchSize: number;
  trainImagesPerSec: number;
  predictImagesPerSec: number;
  /** Timed repetitions after warm-up (the figure is their median). */
  trainReps: number;
  predictReps: number;
  trainStepMs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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
export async function benchCompute(o: { model: string; batchSize: number; warmup: number; reps: number; backend: string; device: string }): Promise<ComputeBenchResult> {
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
    model: o.model,
    batchSize: o.batchSize,
    trainImagesPerSec: (o.batchSize * 1000) / median(trainMs),
    predictImagesPerSec: (o.batchSize * 1000) / median(predictMs),
    trainReps: o.reps,
    predictReps: o.reps,
    trainStepMs: trainMs.map((x) => Math.round(x * 10) / 10),
  };
}

