import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, loadLayersModel, resnet9, saveLayersModel } from './index';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'gradsync-resnet9-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const narrow = () => resnet9({ seed: 2, init: 'pytorch', bnMomentum: 0.9, bnEpsilon: 1e-3, widths: [4, 8, 8, 16] });

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

  it('gives 10 logits per image, equal after a save and load (the residual graph survives the layers format)', async () => {
    const model = narrow();
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5);
    const before = model.predict(x) as tf.Tensor;
    expect(before.shape).toEqual([3, 10]);
    const out = path.join(dir, 'model');
    await saveLayersModel(model, out);
    const { model: loaded } = await loadLayersModel(out);
    const after = loaded.predict(x) as tf.Tensor;
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([x, before, after]);
    model.dispose();
    loaded.dispose();
  });

  it('the same seed builds the same weights', () => {
    const values = () => {
      const m = narrow();
      const v = m.getWeights().map((w) => Array.from(w.dataSync()));
      m.dispose();
      return v;
    };
    expect(values()).toEqual(values());
  });
});
