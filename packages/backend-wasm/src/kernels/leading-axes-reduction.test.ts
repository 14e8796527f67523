import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';
import { leadingReductionAxes, sumRows } from './leading-axes-reduction';

interface Case {
  shape: number[];
  axis: number | number[];
  keepDims?: boolean;
  dtype?: 'float32' | 'int32';
}

const cases: Case[] = [
  { shape: [8, 6, 5, 7], axis: [0, 1, 2] }, // BatchNorm / bias gradient: average pooling path
  { shape: [8, 6, 5, 7], axis: [2, 0, 1], keepDims: true },
  { shape: [16, 12, 12, 8], axis: [0, 1, 2] },
  { shape: [4, 1, 1, 3], axis: [0, 1, 2] }, // 1x1 planes: the row loop
  { shape: [9, 5], axis: 0 },
  { shape: [13, 3, 4], axis: [0, 1] },
  { shape: [6, 4, 3], axis: [-3] },
  { shape: [6, 4, 3], axis: [1, 2] }, // trailing axes: wasm's original
  { shape: [6, 4, 3], axis: [0, 2] }, // not leading: wasm's original
  { shape: [5, 4], axis: 0, dtype: 'int32' }, // int32: wasm's original
  { shape: [7], axis: 0 },
];

describe('Sum and Mean over leading axes on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it('recognises leading axes', () => {
    expect(leadingReductionAxes([2, 3, 4, 5], [0, 1, 2])).toBe(3);
    expect(leadingReductionAxes([2, 3, 4, 5], [1, 0])).toBe(2);
    expect(leadingReductionAxes([2, 3, 4, 5], [1, 2])).toBe(-1);
    expect(leadingReductionAxes([2, 3], [-2])).toBe(1);
  });

  it('sums rows in float64 with any row count', () => {
    const xs = Float32Array.from({ length: 11 * 3 }, (_, i) => i);
    expect(Array.from(sumRows(xs, 11, 3))).toEqual([165, 176, 187]);
  });

  for (const op of ['sum', 'mean'] as const) {
    it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))(`${op} matches cpu: %s`, async (_n, c, i) => {
      const { wasm, cpu } = await onWasmAndCpu(() => {
        const values = seededValues(tf.util.sizeFromShape(c.shape), i + 1).map((v) => (c.dtype === 'int32' ? Math.round(v * 50) : v));
        const x = tf.tensor(values, c.shape, c.dtype ?? 'float32');
        return tf[op](x, c.axis, c.keepDims ?? false);
      });
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('does not leak wasm memory', () => {
    const x = tf.tensor(seededValues(4 * 3 * 2 * 5, 3), [4, 3, 2, 5]);
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.sum(x, [0, 1, 2]);
      tf.mean(x, [0, 1, 2], true);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    x.dispose();
  });
});
