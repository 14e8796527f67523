import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

// Includes values that wasm's own Cast gets wrong for bool: 0.5 (truncated to 0), -2, 300 (wrapped).

describe('Cast on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it('shares the buffer when the dtype does not change', () => {
    const x = tf.tensor(seededValues(12, 1), [3, 4]);
    const ids = tf.backend().numDataIds();
    const y = tf.cast(x, 'float32');
    expect(tf.backend().numDataIds()).toBe(ids);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    x.dispose();
    expect(y.dataSync().length).toBe(12);
    y.dispose();
  });

  it.each([
    ['float32', 'int32'],
    ['int32', 'float32'],
    ['float32', 'bool'],
    ['bool', 'float32'],
    ['int32', 'bool'],
    ['int32', 'int32'],
  ] as const)('matches cpu from %s to %s', async (from, to) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const values = [0, 0.5, -0.25, -2, 3, 300, -0, 7.9, 0, 1].map((v) => (from === 'float32' ? v : Math.round(v)));
      const x = tf.tensor(from === 'bool' ? values.map((v) => (v > 0 ? 1 : 0)) : values, [10], from);
      return tf.cast(tf.cast(x, to), 'float32');
    });
    expect(maxAbsDiff(wasm.values, cpu.values)).toBe(0);
  });
});
