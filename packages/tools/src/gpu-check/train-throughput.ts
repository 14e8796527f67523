import { augmentParamsFor, SEED_AUGMENT, buildModel, Replica } from '@gradsync/train';
import { mulberry32, median } from '@gradsync/core';

export interface ThroughputResult {
  batchSize: number;
  /** Timed steps, milliseconds each. */
  stepMs: number[];
  medianMs: number;
  imagesPerSec: number;
}

/**
 * Training img/s on the active backend: full steps as a worker runs them (augmentation, forward,
 * backward, packing the gradient, reading it back, Adam in JS), median after warm-up. The same
 * measurement as `pnpm bench:compute`'s train column.
 */
export async function trainThroughput(o: { model: string; batchSize: number; warmup: number; reps: number }): Promise<ThroughputResult> {
  const replica = new Replica(buildModel(o.model, 1));
  const rnd = mulberry32(7);
  const images = new Uint8Array(o.batchSize * 3072).map(() => Math.floor(rnd() * 256));
  const labels = new Uint8Array(o.batchSize).map(() => Math.floor(rnd() * 10));
  const augment = Array.from({ length: o.batchSize }, (_, i) => augmentParamsFor(SEED_AUGMENT, 1, 0, i));
  const stepMs: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.reps; i++) {
      const t0 = performance.now();
      const out = await replica.computeStep({ images, labels, augment });
      replica.applySummed(out.buffer, out.count, 1e-3);
      if (i >= o.warmup) stepMs.push(performance.now() - t0);
    }
  } finally {
    replica.model.dispose();
  }
  const medianMs = median(stepMs);
  return { batchSize: o.batchSize, stepMs, medianMs, imagesPerSec: (o.batchSize * 1000) / medianMs };
}
