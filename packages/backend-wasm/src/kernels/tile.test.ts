import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';
import { isBroadcastTile, isLeadingRepeat } from './tile';

interface Case {
  shape: number[];
  reps: number[];
  dtype?: 'float32' | 'int32';
}

const cases: Case[] = [
  { shape: [1, 1, 1, 8], reps: [4, 5, 6, 1] }, // the BatchNorm gradient's case: buffer repeated
  { shape: [1, 1, 1, 32], reps: [64, 30, 30, 1] },
  { shape: [1, 1, 1, 3], reps: [3, 1, 7, 1] }, // buffer repeated, count not a power of two
  { shape: [1, 2, 3], reps: [5, 1, 1] },
  { shape: [3, 1, 2], reps: [1, 4, 1] }, // broadcast in the middle: Add onto zeros
  { shape: [1], reps: [7] },
  { shape: [2, 3], reps: [1, 1] },
  { shape: [2, 3], reps: [3, 2] }, // not a broadcast: wasm's original kernel
  { shape: [1, 1, 1, 4], reps: [2, 3, 3, 1], dtype: 'int32' }, // int32: wasm's original kernel
];

describe('Tile on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it('recognises broadcast tiles', () => {
    expect(isBroadcastTile([1, 1, 1, 8], [4, 5, 6, 1])).toBe(true);
    expect(isBroadcastTile([2, 3], [3, 2])).toBe(false);
    expect(isBroadcastTile([2, 3], [1])).toBe(false);
    expect(isLeadingRepeat([1, 1, 1, 8], [4, 5, 6, 1])).toBe(true);
    expect(isLeadingRepeat([1, 2, 3], [5, 1, 1])).toBe(true);
    expect(isLeadingRepeat([3, 1, 2], [1, 4, 1])).toBe(false);
    expect(isLeadingRepeat([2, 3], [1, 1])).toBe(true);
  });

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_name, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const values = seededValues(tf.util.sizeFromShape(c.shape), i + 11).map((v) => (c.dtype === 'int32' ? Math.round(v * 100) : v));
      const x = tf.tensor(values, c.shape, c.dtype ?? 'float32');
      return tf.tile(x, c.reps);
    });
    expect(wasm.shape).toEqual(c.shape.map((d, k) => d * c.reps[k]!));
    expect(wasm.shape).toEqual(cpu.shape);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('does not leak wasm memory', () => {
    const x = tf.tensor(seededValues(8, 1), [1, 1, 1, 8]);
    tf.tile(x, [2, 2, 2, 1]).dispose();
    const before = tf.memory().numTensors;
    const beforeIds = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.tile(x, [2, 2, 2, 1]);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(beforeIds);
    x.dispose();
  });
});
