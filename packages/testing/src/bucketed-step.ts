import * as tf from '@tensorflow/tfjs-core';
import { expect, vi } from 'vitest';
import { augmentParamsFor, SEED_AUGMENT, buildModel, Replica, SEED_REPLICA_OPTIONS } from '@gradsync/train';
import { mulberry32 } from '@gradsync/core';

/**
 * Two replicas of `model`, one packing its buffer, one handing it over in small buckets (Note
 * [Bucket plan]), over two steps on the current backend: the buffers and then the weights must be
 * the same bytes, every bucket must be whole when handed over, in plan order, and the first must
 * go before the backward pass has written the last bucket. Mocks Math.random (dropout's draws):
 * restore mocks after.
 */
export async function expectBucketedStepLikePacked(model: string, batch: { images: Uint8Array; labels: Uint8Array }): Promise<void> {
  const options = { optimizer: SEED_REPLICA_OPTIONS.optimizer, labelSmoothing: 0.1, bucketBytes: 256 };
  const packed = new Replica(buildModel(model, 21), options);
  const bucketed = new Replica(buildModel(model, 21), options);
  const n = batch.labels.length;
  const augment = Array.from({ length: n }, (_, i) => augmentParamsFor(SEED_AUGMENT, 5, 0, i));
  const into = new Float32Array(bucketed.bufferLength);
  const last = bucketed.buckets.at(-1)!;
  const handed: number[] = [];
  const lastUnwrittenAtFirst: boolean[] = [];
  // Dropout draws its masks from Math.random: both replicas get the same draws.
  const sameDraws = (seed: number) => vi.spyOn(Math, 'random').mockImplementation(mulberry32(seed));
  let tensors = -1;
  for (let step = 0; step < 2; step++) {
    handed.length = 0;
    into.fill(NaN);
    sameDraws(step);
    const a = await packed.computeStep({ ...batch, augment });
    sameDraws(step);
    const b = await bucketed.computeStep({ ...batch, augment }, undefined, {
      into,
      onBucketReady: (k) => {
        if (handed.length === 0) lastUnwrittenAtFirst.push(Number.isNaN(into[last.start]));
        handed.push(k);
        const { start, end } = bucketed.buckets[k];
        for (let i = start; i < end; i++) if (Number.isNaN(into[i])) throw new Error(`bucket ${k} handed over with element ${i} unwritten`);
      },
    });
    expect(b.buffer).toBe(into);
    expect(Buffer.from(b.buffer.buffer).equals(Buffer.from(a.buffer.buffer))).toBe(true);
    expect([b.loss, b.correct, b.count]).toEqual([a.loss, a.correct, a.count]);
    expect(handed).toEqual(bucketed.buckets.map((_, k) => k));
    packed.applySummed(a.buffer, a.count, 1e-3);
    bucketed.applySummed(b.buffer, b.count, 1e-3);
    if (step === 0) tensors = tf.memory().numTensors;
  }
  expect(bucketed.weightsHash()).toBe(packed.weightsHash());
  expect(tf.memory().numTensors).toBe(tensors);
  expect(bucketed.buckets.length).toBeGreaterThan(1);
  expect(lastUnwrittenAtFirst).toEqual([true, true]);
  packed.model.dispose();
  bucketed.model.dispose();
}
