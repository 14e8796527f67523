import * as tf from '@tensorflow/tfjs-core';
import { type AugmentConfig, augmentParamsFor } from '@gradsync/train';
import type { Replica } from '@gradsync/train';

/**
 * The losses of `steps` worker steps (augmentation, step, optimizer) on one fixed batch of `n`
 * patterned images, after one warm-up step, and how many tfjs tensors the steps left behind.
 */
export async function fixedBatchLosses(
  replica: Replica,
  { n, augment, lr, steps = 15 }: { n: number; augment: AugmentConfig; lr: number; steps?: number },
): Promise<{ losses: number[]; tensorsLeft: number }> {
  const images = new Uint8Array(n * 3072).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  const params = Array.from({ length: n }, (_, i) => augmentParamsFor(augment, 1, 0, i));
  const step = async () => {
    const out = await replica.computeStep({ images, labels, augment: params });
    replica.applySummed(out.buffer, out.count, lr);
    return out.loss;
  };
  await step();
  const tensors = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await step());
  return { losses, tensorsLeft: tf.memory().numTensors - tensors };
}
