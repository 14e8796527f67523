import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airbench, buildModel, resnet9 } from './index';
import { loadLayersModel, saveLayersModel } from './io';
import type { GraphModelOptions } from './graph-blocks';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'gradsync-graph-models-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resnet9', () => {
  it("has Page's ResNet-9 weights: 8 bias-free 3×3 convs, each with BatchNorm, and a bias-free 512 → 10 head", () => {
    const model = buildModel('resnet9', 1, { bnMomentum: 0.9 });
    const kernels = model.trainableWeights.filter((w) => w.name.includes('kernel')).map((w) => w.shape);
    expect(kernels).toEqual([
      [3, 3, 3, 64],
      [3, 3, 64, 128],
      [3, 3, 128, 128],
      [3, 3, 128, 128],
      [3, 3, 128, 256],
      [3, 3, 256, 512],
      [3, 3, 512, 512],
      [3, 3, 512, 512],
      [512, 10],
    ]);
    expect(model.trainableWeights.some((w) => w.name.includes('bias'))).toBe(false);
    const bn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    expect(bn).toHaveLength(8);
    expect(bn.every((l) => (l.getConfig() as { momentum: number }).momentum === 0.9)).toBe(true);
    // Kernels, then gamma, beta, moving mean and variance of every BatchNorm channel.
    expect(model.countParams()).toBe(6_568_640 + 4 * (64 + 128 * 3 + 256 + 512 * 3));
    expect(model.layers.filter((l) => l.getClassName() === 'Add')).toHaveLength(2);
    model.dispose();
  });
});

describe('airbench', () => {
  it("has airbench94's weights: a 2×2 stem with bias, six bias-free 3×3 convs each with BatchNorm, a bias-free 256 → 10 head", () => {
    const model = buildModel('airbench', 1, { bnMomentum: 0.9 });
    const kernels = model.trainableWeights.filter((w) => w.name.includes('kernel')).map((w) => w.shape);
    expect(kernels).toEqual([
      [2, 2, 3, 24],
      [3, 3, 24, 64],
      [3, 3, 64, 64],
      [3, 3, 64, 256],
      [3, 3, 256, 256],
      [3, 3, 256, 256],
      [3, 3, 256, 256],
      [256, 10],
    ]);
    expect(model.trainableWeights.filter((w) => w.name.includes('bias')).map((w) => w.shape)).toEqual([[24]]);
    const bn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    expect(bn).toHaveLength(6);
    expect(bn.every((l) => (l.getConfig() as { momentum: number }).momentum === 0.9)).toBe(true);
    const convWeights = 2 * 2 * 3 * 24 + 24 + 9 * (24 * 64 + 64 * 64 + 64 * 256 + 3 * 256 * 256) + 256 * 10;
    // Kernels and the stem's bias, then gamma, beta, moving mean and variance of every BatchNorm channel.
    expect(model.countParams()).toBe(convWeights + 4 * (2 * 64 + 4 * 256));
    // The spatial path: 32 → 31 (2×2 valid) → 15 → 7 → 3 (max-pools of 2) → 1 (max-pool of 3).
    const flatten = model.layers.find((l) => l.getClassName() === 'Flatten')!;
    expect(flatten.outputShape).toEqual([null, 256]);
    model.dispose();
  });
});

/** The zoo's functional-API models at test widths. */
const NARROW = [
  { name: 'resnet9', build: (seed: number) => resnet9(narrowOptions(seed)) },
  { name: 'airbench', build: (seed: number) => airbench(narrowOptions(seed)) },
];
function narrowOptions(seed: number): GraphModelOptions {
  return { seed, init: 'pytorch', bnMomentum: 0.9, bnEpsilon: 1e-3, widths: [4, 8, 8, 16] };
}

describe.each(NARROW)('$name', ({ name, build }) => {
  it('gives 10 logits per image, equal after a save and load (the graph survives the layers format)', async () => {
    const model = build(2);
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5);
    const before = model.predict(x) as tf.Tensor;
    expect(before.shape).toEqual([3, 10]);
    const out = path.join(dir, name);
    await saveLayersModel(model, out);
    const { model: loaded } = await loadLayersModel(out);
    const after = loaded.predict(x) as tf.Tensor;
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([x, before, after]);
    model.dispose();
    loaded.dispose();
  });

  it('the same seed builds the same weights; another seed other weights', () => {
    const values = (seed: number) => {
      const m = build(seed);
      const v = m.getWeights().map((w) => Array.from(w.dataSync()));
      m.dispose();
      return v;
    };
    expect(values(2)).toEqual(values(2));
    expect(values(3)).not.toEqual(values(2));
  });
});
