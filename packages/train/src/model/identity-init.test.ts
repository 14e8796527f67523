import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { identityPrefixKernel } from './identity-init';
import { airbench } from './index';

beforeAll(() => tf.setBackend('cpu'));

describe('identityPrefixKernel', () => {
  it('a square kernel becomes the identity conv: the output equals the input', () => {
    const shape = [3, 3, 4, 4];
    const random = Float32Array.from({ length: 3 * 3 * 4 * 4 }, (_, i) => Math.sin(i + 1));
    const kernel = identityPrefixKernel(random, shape);
    const x = tf.randomUniform([2, 5, 5, 4], -1, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.conv2d(x, tf.tensor4d(kernel, shape as [number, number, number, number]), 1, 'same');
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
  });

  it('a widening kernel copies its inputs into its first filters and keeps the others random', () => {
    const shape = [3, 3, 2, 5];
    const random = Float32Array.from({ length: 3 * 3 * 2 * 5 }, (_, i) => 0.5 + i);
    const kernel = identityPrefixKernel(random, shape);
    const at = (y: number, x: number, i: number, o: number) => ((y * 3 + x) * 2 + i) * 5 + o;
    expect(kernel[at(1, 1, 0, 0)]).toBe(1);
    expect(kernel[at(1, 1, 1, 1)]).toBe(1);
    expect(kernel[at(1, 1, 1, 0)]).toBe(0);
    expect(kernel[at(0, 0, 0, 0)]).toBe(0);
    for (let o = 2; o < 5; o++) expect(kernel[at(0, 2, 1, o)]).toBe(random[at(0, 2, 1, o)]);
    // Its input is left alone.
    expect(random[at(1, 1, 0, 0)]).toBe(0.5 + at(1, 1, 0, 0));
  });

  it('refuses a kernel whose values do not match its shape, or an even-sized one', () => {
    expect(() => identityPrefixKernel(new Float32Array(10), [3, 3, 1, 1])).toThrow(
      /odd-sized HWIO kernel matching its values, got shape \[3, 3, 1, 1\] for 10 values/,
    );
    expect(() => identityPrefixKernel(new Float32Array(16), [2, 2, 2, 2])).toThrow(/odd-sized/);
  });
});

describe('airbench starts its 3×3 convs as identities', () => {
  it('each group’s second conv is the identity, its first conv copies its input into its first filters; the stem and head stay random', () => {
    const model = airbench({ seed: 4, init: 'pytorch', bnMomentum: 0.9, bnEpsilon: 1e-3, widths: [4, 8, 8, 16] });
    const kernels = model.getWeights().filter((w) => w.rank === 4);
    const [stem, ...convs] = kernels.map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }));
    expect(convs.map((c) => c.shape)).toEqual([
      [3, 3, 4, 8],
      [3, 3, 8, 8],
      [3, 3, 8, 8],
      [3, 3, 8, 8],
      [3, 3, 8, 16],
      [3, 3, 16, 16],
    ]);
    for (const conv of convs) {
      const [, , inChannels, outChannels] = conv.shape;
      const value = (y: number, x: number, i: number, o: number) => conv.values[((y * 3 + x) * inChannels + i) * outChannels + o];
      for (let o = 0; o < inChannels; o++) {
        for (let i = 0; i < inChannels; i++) expect(value(1, 1, i, o)).toBe(i === o ? 1 : 0);
        expect(value(0, 0, o, o)).toBe(0);
      }
      if (outChannels > inChannels) expect(conv.values.filter((v) => v !== 0 && v !== 1).length).toBeGreaterThan(0);
    }
    expect(stem.values.filter((v) => v === 0).length).toBe(0);
    model.dispose();
  });
});
