import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Pad;
}

// Stride 1 takes the fast path (a Conv2D); stride 2 and pads wider than the filter take wasm's original.
const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  for (const stride of [1, 2]) {
    cases.push({ x: [2, 7, 7, 3], filter: [3, 3, 3, 4], stride, pad });
    cases.push({ x: [3, 8, 6, 2], filter: [2, 2, 2, 5], stride, pad });
    cases.push({ x: [1, 9, 10, 4], filter: [5, 3, 4, 3], stride, pad });
  }
}
cases.push({
  x: [2, 6, 7, 3],
  filter: [3, 3, 3, 2],
  stride: 1,
  pad: [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
});
cases.push({
  x: [2, 6, 7, 3],
  filter: [3, 3, 3, 2],
  stride: 1,
  pad: [
    [0, 0],
    [3, 0],
    [0, 0],
    [0, 0],
  ],
});

function runBackpropInput(c: Case, seed: number): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.stride, 1, c.pad);
  const filter = tf.tensor4d(seededValues(tf.util.sizeFromShape(c.filter), seed), c.filter);
  const dy = tf.tensor(seededValues(tf.util.sizeFromShape(info.outShape), seed + 1), info.outShape);
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as tf.Tensor;
}

describe('Conv2DBackpropInput on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_name, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => runBackpropInput(c, 10 * i + 3));
    expect(wasm.shape).toEqual(c.x);
    expect(cpu.shape).toEqual(c.x);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('gives the input gradient of conv2d through the tape', async () => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const x = tf.tensor4d(seededValues(2 * 10 * 10 * 3, 5), [2, 10, 10, 3]);
      const w = tf.tensor4d(seededValues(3 * 3 * 3 * 8, 6), [3, 3, 3, 8]);
      return tf.grad((v) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, 1, 'same'))))(x);
    });
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('does not leak wasm memory', () => {
    for (const c of [cases[0]!, cases[1]!]) {
      runBackpropInput(c, 1).dispose();
      const before = tf.memory().numTensors;
      const beforeIds = tf.backend().numDataIds();
      tf.tidy(() => {
        runBackpropInput(c, 1);
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.backend().numDataIds()).toBe(beforeIds);
    }
  });
});
