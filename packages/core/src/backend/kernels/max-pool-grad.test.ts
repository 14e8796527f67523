import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from './compare-backends';

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
cases.push({ x: [2, 8, 8, 4], filter: 2, stride: 2, pad: 'valid', ties: true });
cases.push({ x: [1, 7, 7, 2], filter: 3, stride: 1, pad: 'same', ties: true });

describe('MaxPoolGrad on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_n, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const size = tf.util.sizeFromShape(c.x);
      const values = seededValues(size, i + 1).map((v) => (c.ties ? Math.max(0, Math.round(v * 2)) : v));
      const x = tf.tensor4d(values, c.x);
      const pooled = tf.maxPool(x, c.filter, c.stride, c.pad);
      const dy = tf.tensor(seededValues(pooled.size, i + 100), pooled.shape);
      return tf.grad((v) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, c.filter, c.stride, c.pad), dy)))(x);
    });
    expect(wasm.shape).toEqual(c.x);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });
});
