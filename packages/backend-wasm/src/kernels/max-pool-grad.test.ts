import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

interface Case {
  x: [number, number, number, number];
  filter: number;
  stride: number;
  pad: 'valid' | 'same';
  ties?: boolean;
}

const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  for (const stride of [1, 2]) {
    for (const filter of [2, 3]) cases.push({ x: [2, 7, 6, 3], filter, stride, pad });
  }
}
// Ties (as after a ReLU): the gradient goes to the first maximum of each window, as on cpu.
cases.push({ x: [2, 8, 8, 4], filter: 2, stride: 2, pad: 'valid', ties: true }); // unrolled 2x2 path
cases.push({ x: [2, 9, 7, 4], filter: 2, stride: 2, pad: 'valid' }); // 2x2 path, odd size: last row unused
cases.push({ x: [2, 6, 6, 4], filter: 2, stride: 1, pad: 'valid', ties: true }); // 2x2 path, overlapping
cases.push({ x: [1, 7, 7, 2], filter: 3, stride: 1, pad: 'same', ties: true });

describe('MaxPoolGrad on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_n, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const size = tf.util.sizeFromShape(c.x);
      // Every third case puts a NaN and a -Infinity into the input (both never win a window).
      const values = seededValues(size, i + 1).map((v) => (c.ties ? Math.max(0, Math.round(v * 2)) : v));
      if (i % 3 === 0) {
        values[0] = NaN;
        values[5] = Number.NEGATIVE_INFINITY;
      }
      const x = tf.tensor4d(values, c.x);
      const pooled = tf.maxPool(x, c.filter, c.stride, c.pad);
      const dy = tf.tensor(seededValues(pooled.size, i + 100), pooled.shape);
      return tf.grad((v) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, c.filter, c.stride, c.pad), dy)))(x);
    });
    expect(wasm.shape).toEqual(c.x);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });
});
