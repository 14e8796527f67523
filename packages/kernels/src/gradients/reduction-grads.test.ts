import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers' bundle registers tfjs's own gradients: the reference here.
import '@tensorflow/tfjs-layers';
import { silenceCpuBackendBanner } from '@gradsync/backend-wasm/node';
import { registerTrainingGradients, unregisterTrainingGradients } from './register-training-gradients';
import { meanGradConfig, sumGradConfig } from './reduction-grads';

interface Case {
  shape: number[];
  axis: number | number[];
  keepDims: boolean;
}

const cases: Case[] = [
  { shape: [4, 3, 5, 6], axis: [0, 1, 2], keepDims: false }, // BatchNorm moments
  { shape: [4, 3, 5, 6], axis: [0, 1, 2], keepDims: true },
  { shape: [4, 7], axis: 1, keepDims: false },
  { shape: [4, 7], axis: [0, 1], keepDims: false },
  { shape: [2, 3, 4], axis: [-1, 0], keepDims: true },
];

function gradient(op: 'sum' | 'mean', c: Case, seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomNormal(c.shape, 0, 1, 'float32', seed);
    const weights = tf.randomNormal(tf[op](x, c.axis, c.keepDims).shape, 0, 1, 'float32', seed + 1);
    const g = tf.grad((v) => tf.sum(tf.mul(tf[op](v, c.axis, c.keepDims), weights)))(x);
    return g.dataSync() as Float32Array;
  });
}

describe('Sum and Mean gradients without ones()', () => {
  afterAll(() => unregisterTrainingGradients());

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('equal tfjs gradients: %s', async (_n, c, i) => {
    silenceCpuBackendBanner();
    await tf.setBackend('cpu');
    unregisterTrainingGradients();
    const reference = { sum: gradient('sum', c, i), mean: gradient('mean', c, i) };
    registerTrainingGradients();
    expect(tf.getGradient('Sum')).toBe(sumGradConfig);
    expect(tf.getGradient('Mean')).toBe(meanGradConfig);
    expect(Array.from(gradient('sum', c, i))).toEqual(Array.from(reference.sum));
    expect(Array.from(gradient('mean', c, i))).toEqual(Array.from(reference.mean));
  });

  it('restores the replaced gradients', () => {
    registerTrainingGradients();
    registerTrainingGradients();
    unregisterTrainingGradients();
    expect(tf.getGradient('Mean')).not.toBe(meanGradConfig);
    expect(tf.getGradient('Mean')).toBeDefined();
  });
});
