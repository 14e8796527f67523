import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every kernel and bias of the model with its fan-in (product of all but the last dimension). */
function weightsOf(name: string, seed: number, init: 'pytorch' | 'keras') {
  const model = buildModel(name, seed, { init });
  const out = model.trainableWeights
    .filter((w) => /kernel|bias/.test(w.name))
    .map((w) => ({ name: w.name, shape: w.shape as number[], values: w.read().dataSync() as Float32Array }));
  model.dispose();
  return out;
}

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe('initial weights', () => {
  it('pytorch: kernels and biases in U(±1/√fan_in), nearly filling the range', () => {
    const weights = weightsOf('seed-cnn', 3, 'pytorch');
    const kernels = weights.filter((w) => w.name.includes('kernel'));
    expect(kernels.map((k) => k.shape)).toEqual([
      [3, 3, 3, 32],
      [3, 3, 32, 32],
      [3, 3, 32, 64],
      [3, 3, 64, 64],
      [1600, 64],
      [64, 10],
    ]);
    for (const k of kernels) {
      const fanIn = k.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const bias = weights.find((w) => w.name === k.name.replace('kernel', 'bias'))!;
      for (const w of [k, bias]) {
        expect(maxAbs(w.values)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn) + 1e-7);
        // Biases are few (10 for the last layer): only ask that they are not all zero.
        expect(maxAbs(w.values)).toBeGreaterThan(w === k ? 0.95 / Math.sqrt(fanIn) : 0);
      }
    }
  });

  it('keras: glorot_uniform kernels, zero biases', () => {
    for (const w of weightsOf('seed-cnn', 3, 'keras')) {
      if (w.name.includes('bias')) {
        expect(maxAbs(w.values)).toBe(0);
      } else {
        const receptive = w.shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const limit = Math.sqrt(6 / (receptive * (w.shape.at(-2)! + w.shape.at(-1)!)));
        expect(maxAbs(w.values)).toBeLessThanOrEqual(limit + 1e-7);
        expect(maxAbs(w.values)).toBeGreaterThan(0.9 * limit);
      }
    }
  });

  it('the same seed gives the same weights, another seed or scheme different ones', () => {
    const a = weightsOf('tiny-cnn', 5, 'pytorch');
    // Layer names count up per model built, so compare the values only.
    expect(weightsOf('tiny-cnn', 5, 'pytorch').map((w) => w.values)).toEqual(a.map((w) => w.values));
    expect(weightsOf('tiny-cnn', 6, 'pytorch')[0].values).not.toEqual(a[0].values);
    expect(weightsOf('tiny-cnn', 5, 'keras')[0].values).not.toEqual(a[0].values);
  });

  it('names an unknown scheme', () => {
    expect(() => buildModel('seed-cnn', 1, { init: 'xavier' as 'keras' })).toThrow(/unknown initialization "xavier".*pytorch, keras/);
  });
});

describe('seed-cnn dropout scale', () => {
  const rates = (scale?: number) => {
    const model = buildModel('seed-cnn', 1, scale === undefined ? {} : { dropoutScale: scale });
    const r = model.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => l.getConfig()['rate']);
    model.dispose();
    return r;
  };

  it("scales the tutorial's rates: 1 by default, 0.5 halves them, 0 turns dropout off", () => {
    expect(rates()).toEqual([0.25, 0.25, 0.5]);
    expect(rates(0.5)).toEqual([0.125, 0.125, 0.25]);
    expect(rates(0)).toEqual([0, 0, 0]);
  });

  it('with rate 0 a training pass equals inference (no mask, no scaling)', () => {
    const model = buildModel('seed-cnn', 2, { dropoutScale: 0 });
    // The dense layer's dropout (0.5 × scale) alone, on a made-up input of its shape.
    const x = tf.randomUniform([2, 5, 5, 64]);
    const drop = model.layers.filter((l) => l.getClassName() === 'Dropout')[2]!;
    const y = drop.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
    model.dispose();
  });
});
