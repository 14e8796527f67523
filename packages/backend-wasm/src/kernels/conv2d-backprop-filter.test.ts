import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from '../node/compare-backends';

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Pad;
}

// fh*fw*C <= 32 takes the matrix-product path, larger filters the convolution path.
const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  for (const stride of [1, 2]) {
    cases.push({ x: [2, 7, 7, 3], filter: [3, 3, 3, 4], stride, pad }); // matrix product
    cases.push({ x: [3, 8, 6, 2], filter: [2, 2, 2, 5], stride, pad }); // even filter: asymmetric 'same' pads
    cases.push({ x: [1, 9, 10, 4], filter: [5, 3, 4, 3], stride, pad }); // convolution
    cases.push({ x: [2, 8, 7, 8], filter: [3, 3, 8, 6], stride, pad }); // convolution
  }
}
for (const c of [3, 6]) {
  cases.push({
    x: [2, 6, 7, c],
    filter: [3, 3, c, 2],
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  });
  cases.push({
    x: [2, 9, 9, c],
    filter: [3, 3, c, 2],
    stride: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  });
}

function runBackpropFilter(c: Case, seed: number): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.stride, 1, c.pad);
  const x = tf.tensor4d(seededValues(tf.util.sizeFromShape(c.x), seed), c.x);
  const dy = tf.tensor(seededValues(tf.util.sizeFromShape(info.outShape), seed + 1), info.outShape);
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as tf.Tensor;
}

describe('Conv2DBackpropFilter on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('matches cpu: %s', async (_name, c, i) => {
    const { wasm, cpu } = await onWasmAndCpu(() => runBackpropFilter(c, 10 * i + 1));
    expect(wasm.shape).toEqual(c.filter);
    expect(cpu.shape).toEqual(c.filter);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('gives the filter gradient of conv2d through the tape', async () => {
    const { wasm, cpu } = await onWasmAndCpu(() => {
      const x = tf.tensor4d(seededValues(2 * 10 * 10 * 3, 7), [2, 10, 10, 3]);
      const w = tf.tensor4d(seededValues(3 * 3 * 3 * 8, 8), [3, 3, 3, 8]);
      return tf.grad((f) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid'))))(w);
    });
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('does not leak wasm memory', () => {
    for (const c of [cases[0]!, cases[1]!, cases[2]!, cases[cases.length - 1]!]) {
      runBackpropFilter(c, 1).dispose();
      const before = tf.memory().numTensors;
      const beforeIds = tf.backend().numDataIds();
      tf.tidy(() => {
        runBackpropFilter(c, 1);
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.backend().numDataIds()).toBe(beforeIds);
    }
  });

  it('rejects NCHW with a clear error', () => {
    const x = tf.zeros([1, 3, 5, 5]);
    const dy = tf.zeros([1, 2, 3, 3]);
    const run = () =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        {
          strides: 1,
          pad: 'valid',
          dataFormat: 'NCHW',
          filterShape: [3, 3, 3, 2],
        },
      );
    expect(run).toThrow(GradsyncError);
    expect(run).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });
});
