import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { augmentParamsFor, SEED_AUGMENT } from '../augment/index';
import { Replica } from '../training/index';
import { buildModel, checkModelFitsData, MODEL_NAMES, modelShape, type ModelShape } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Greyscale, not square, 7 classes: nothing about it is CIFAR's. */
const GREY: ModelShape = { inputShape: [40, 36, 1], numClasses: 7 };

/** Class k is a bright band at height k: learnable by any of the zoo's models. */
function bands(n: number, seed: number, shape: ModelShape) {
  const [h, w, c] = shape.inputShape;
  const rnd = mulberry32(seed);
  const images = new Uint8Array(n * h * w * c);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * shape.numClasses);
    labels[i] = k;
    const band = Math.floor(((k + 0.5) * h) / shape.numClasses);
    for (let j = 0; j < h * w * c; j++) {
      const y = Math.floor(j / (w * c));
      images[i * h * w * c + j] = (Math.abs(y - band) <= 1 ? 200 : 30) + Math.floor(rnd() * 30);
    }
  }
  return { images, labels };
}

describe('zoo models for any image shape and class count', () => {
  it.each(MODEL_NAMES.filter((m) => m !== 'resnet9'))('%s builds for 40×36 greyscale images and 7 classes, and predicts 7 logits', (name) => {
    const model = buildModel(name, 3, { shape: GREY });
    expect(modelShape(model)).toEqual(GREY);
    const logits = tf.tidy(() => (model.predict(tf.zeros([2, 40, 36, 1])) as tf.Tensor).shape);
    expect(logits).toEqual([2, 7]);
    model.dispose();
  });

  it('resnet9 takes any shape too (global pooling), here 24×24 RGB with 100 classes', () => {
    const model = buildModel('resnet9', 3, { shape: { inputShape: [24, 24, 3], numClasses: 100 } });
    expect(modelShape(model)).toEqual({ inputShape: [24, 24, 3], numClasses: 100 });
    model.dispose();
  });

  it('defaults to CIFAR-10: the same weights as naming 32×32×3 and 10 classes', () => {
    const cifar: ModelShape = { inputShape: [32, 32, 3], numClasses: 10 };
    for (const name of ['seed-cnn', 'tiny-cnn', 'linear'] as const) {
      const hash = (m: tfl.LayersModel) => new Replica(m).weightsHash();
      expect(hash(buildModel(name, 5, { shape: cifar }))).toBe(hash(buildModel(name, 5)));
    }
  });

  it('says which model cannot take images that small, and which shapes are not shapes', () => {
    expect(() => buildModel('seed-cnn', 1, { shape: { inputShape: [8, 8, 3], numClasses: 10 } })).toThrow(/model "seed-cnn" cannot take 8×8×3 images/);
    expect(() => buildModel('linear', 1, { shape: { inputShape: [8, 0, 3], numClasses: 10 } })).toThrow(/8×0×3 must be three positive integers/);
    expect(() => buildModel('linear', 1, { shape: { inputShape: [8, 8, 3], numClasses: 1 } })).toThrow(/1 classes; a classifier needs 2 or more/);
  });

  it('a replica trains and evaluates on them: 7×7 confusion, falling loss, no leaked tensors', async () => {
    const replica = new Replica(buildModel('tiny-cnn', 2, { shape: GREY }));
    const held = bands(60, 99, GREY);
    const before = await replica.evaluate(held.images, held.labels);
    let tensors = -1;
    for (let step = 0; step < 30; step++) {
      const { images, labels } = bands(16, step, GREY);
      const augment = Array.from({ length: 16 }, (_, i) => augmentParamsFor({ ...SEED_AUGMENT, flip: false }, 5, 0, step * 16 + i));
      const out = await replica.computeStep({ images, labels, augment });
      replica.applySummed(out.buffer, out.count, 1e-2);
      if (step === 0) tensors = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensors);
    const after = await replica.evaluate(held.images, held.labels);
    expect(after.confusion).toHaveLength(49);
    expect(after.confusion.reduce((a, b) => a + b, 0)).toBe(60);
    expect(after.lossSum).toBeLessThan(before.lossSum);
  });
});

describe('modelShape and checkModelFitsData', () => {
  it('refuses a model that is not one image input to one logits output, naming the shape', () => {
    const flat = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 3 })] });
    expect(() => modelShape(flat)).toThrow(/takes input \[null,5\]; it must take images/);
    const scalar = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4, 1] }), tfl.layers.dense({ units: 1 })] });
    expect(() => modelShape(scalar)).toThrow(/gives output \[null,1\]; it must give \[batch, classes\] logits/);
  });

  it('names both sides when a model does not fit the data', () => {
    const model = buildModel('linear', 1, { shape: GREY });
    expect(() => checkModelFitsData(model, { inputShape: [40, 36, 3], numClasses: 7 })).toThrow(/takes 40×36×1 images but the data's are 40×36×3/);
    expect(() => checkModelFitsData(model, { inputShape: [40, 36, 1], numClasses: 9 })).toThrow(/gives 7 logits but the data has 9 classes/);
    expect(() => checkModelFitsData(model, GREY)).not.toThrow();
  });
});
