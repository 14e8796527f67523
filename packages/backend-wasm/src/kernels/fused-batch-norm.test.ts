import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

interface Case {
  x: number[];
  withScale: boolean;
  withOffset: boolean;
  statsShape?: number[];
}

const cases: Case[] = [
  { x: [4, 5, 6, 3], withScale: true, withOffset: true },
  { x: [4, 5, 6, 3], withScale: false, withOffset: true },
  { x: [4, 5, 6, 3], withScale: true, withOffset: false },
  { x: [7, 8], withScale: true, withOffset: true },
  { x: [2, 3, 4, 5], withScale: true, withOffset: true, statsShape: [1, 1, 1, 5] }, // wasm's original
];

describe('FusedBatchNorm on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_n, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const channels = c.x[c.x.length - 1]!;
      const stats = c.statsShape ?? [channels];
      const param = (seed: number, shift: number) =>
        tf.tensor(
          seededValues(channels, seed).map((v) => v + shift),
          stats as [number],
        ) as tf.Tensor1D;
      const x = tf.tensor(seededValues(tf.util.sizeFromShape(c.x), i + 1), c.x);
      return tf.batchNorm(x, param(i + 2, 0), param(i + 3, 1.5), c.withOffset ? param(i + 4, 0) : undefined, c.withScale ? param(i + 5, 1) : undefined, 1e-3);
    });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('does not leak wasm memory', () => {
    const x = tf.tensor(seededValues(2 * 3 * 4, 1), [2, 3, 4]);
    const m = tf.tensor1d([0, 1, 2, 3]);
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.batchNorm(x, m, tf.onesLike(m), m, m, 1e-3);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([x, m]);
  });
});
