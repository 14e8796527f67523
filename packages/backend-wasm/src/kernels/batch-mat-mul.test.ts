import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const cases: Case[] = [
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true }, // Dense input gradient
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false }, // Dense weight gradient
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [1, 6, 4], b: [1, 3, 4], transposeA: false, transposeB: true },
  { a: [2, 6, 4], b: [2, 3, 4], transposeA: false, transposeB: true }, // batched: wasm's original
];

describe('BatchMatMul on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_n, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const a = tf.tensor(seededValues(tf.util.sizeFromShape(c.a), i + 1), c.a);
      const b = tf.tensor(seededValues(tf.util.sizeFromShape(c.b), i + 50), c.b);
      return tf.matMul(a, b, c.transposeA, c.transposeB);
    });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('does not leak wasm memory', () => {
    const a = tf.tensor(seededValues(35, 1), [7, 5]);
    const b = tf.tensor(seededValues(21, 2), [3, 7]);
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.matMul(a, b, true, true);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([a, b]);
  });
});
