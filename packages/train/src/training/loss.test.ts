import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingLoss } from './loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** −Σ target · log softmax(logits) for one row, in float64. */
function handLoss(logits: number[], label: number, eps: number): number {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0)) + max;
  const k = logits.length;
  return logits.reduce((sum, z, c) => sum - ((c === label ? 1 - eps : 0) + eps / k) * (z - logSum), 0);
}

describe('trainingLoss', () => {
  const logits = [
    [1, 2, 3],
    [0.5, -1, 0.25],
  ];
  const labels = [2, 0];

  const lossOf = (eps: number) =>
    tf.tidy(() => trainingLoss(tf.oneHot(tf.tensor1d(labels, 'int32'), 3) as tf.Tensor2D, tf.tensor2d(logits), eps).dataSync()[0]);

  it('with ε = 0.1 is the batch mean of the smoothed-target cross-entropy computed by hand', () => {
    // Row 1: targets (0.0333, 0.0333, 0.9333) against log softmax (−2.4076, −1.4076, −0.4076).
    expect(handLoss(logits[0], 2, 0.1)).toBeCloseTo(0.0333333 * 2.4076059 + 0.0333333 * 1.4076059 + 0.9333333 * 0.4076059, 5);
    const want = (handLoss(logits[0], 2, 0.1) + handLoss(logits[1], 0, 0.1)) / 2;
    expect(lossOf(0.1)).toBeCloseTo(want, 5);
  });

  it('with ε = 0 is plain cross-entropy, and smoothing raises the loss of a confident right answer', () => {
    expect(lossOf(0)).toBeCloseTo((handLoss(logits[0], 2, 0) + handLoss(logits[1], 0, 0)) / 2, 5);
    expect(lossOf(0.2)).toBeGreaterThan(lossOf(0));
  });
});
