import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AIRBENCH_RECIPE } from '../config/recipes';
import { IMAGE_BYTES } from '@gradsync/data/browser';
import { Replica } from '../training/replica';
import { replicaForRun } from '../run/replica-for-run';
import { airbench } from './airbench';
import { PATCH_VALUES, patchMoments, WHITENING_EPSILON, whiteningStem, whitenStem } from './whitening';
import { buildModel } from './zoo';

beforeAll(() => tf.setBackend('cpu'));
const disposeAfter: { dispose(): void }[] = [];
afterEach(() => disposeAfter.splice(0).forEach((m) => m.dispose()));

/** Smooth, channel-correlated images with noise: neighbouring pixels and channels covary, as in photographs. */
function correlatedImages(count: number, seed: number): Uint8Array {
  let state = seed;
  const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const out = new Uint8Array(count * IMAGE_BYTES);
  for (let n = 0; n < count; n++) {
    const [fx, fy, phase, tint] = [random() * 0.8, random() * 0.8, random() * 6, random() * 40];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const base = 120 + 70 * Math.sin(fx * x + fy * y + phase);
        for (let c = 0; c < 3; c++)
          out[n * IMAGE_BYTES + (y * 32 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + (c - 1) * tint + 30 * (random() - 0.5))));
      }
    }
  }
  return out;
}

/** Mean and covariance over every position of an NHWC tensor's channels (the test's own estimate, in float64). */
function channelMoments(t: tf.Tensor4D): { mean: number[]; covariance: number[][] } {
  const channels = t.shape[3];
  const values = t.dataSync();
  const rows = values.length / channels;
  const mean = new Array<number>(channels).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < channels; c++) mean[c]! += values[r * channels + c]! / rows;
  const covariance = mean.map(() => new Array<number>(channels).fill(0));
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < channels; i++) {
      const di = values[r * channels + i]! - mean[i]!;
      for (let j = 0; j < channels; j++) covariance[i]![j]! += (di * (values[r * channels + j]! - mean[j]!)) / rows;
    }
  }
  return { mean, covariance };
}

describe('whiteningStem', () => {
  it('applied by tfjs as a 2×2 conv, it makes the patches zero-mean and decorrelated with variance λ/(λ + ε)', () => {
    const count = 24;
    const images = correlatedImages(count, 7);
    const moments = patchMoments(images, count);
    const stem = whiteningStem(moments);
    const out = tf.tidy(() => {
      const x = tf.div(tf.tensor4d(images, [count, 32, 32, 3], 'float32'), 255) as tf.Tensor4D;
      const kernel = tf.tensor4d(stem.kernel, [2, 2, 3, 2 * PATCH_VALUES]);
      return tf.add(tf.conv2d(x, kernel, 1, 'valid'), tf.tensor1d(stem.bias)) as tf.Tensor4D;
    });
    const { mean, covariance } = channelMoments(out);
    out.dispose();
    let trace = 0;
    for (let i = 0; i < PATCH_VALUES; i++) trace += moments.covariance[i * PATCH_VALUES + i]!;
    const floor = (WHITENING_EPSILON * trace) / PATCH_VALUES;
    for (let i = 0; i < PATCH_VALUES; i++) {
      expect(mean[i]).toBeCloseTo(0, 3);
      const lambda = stem.eigenvalues[i]!;
      expect(covariance[i]![i]).toBeCloseTo(lambda / (lambda + floor), 2);
      for (let j = 0; j < PATCH_VALUES; j++) if (j !== i) expect(Math.abs(covariance[i]![j]!)).toBeLessThan(0.01);
      // The second half is the first negated, so ReLU keeps both signs of every direction.
      expect(covariance[i]![i + PATCH_VALUES]).toBeCloseTo(-covariance[i]![i]!, 3);
    }
    // The images are far from white: the strongest direction holds most of the variance.
    expect(stem.eigenvalues[0]! / stem.eigenvalues[PATCH_VALUES - 1]!).toBeGreaterThan(50);
    for (let i = 1; i < PATCH_VALUES; i++) expect(stem.eigenvalues[i]).toBeLessThanOrEqual(stem.eigenvalues[i - 1]!);
  });

  it('patchMoments: a constant image has its value as mean and no covariance', () => {
    const image = new Uint8Array(IMAGE_BYTES).fill(51);
    const { mean, covariance, patches } = patchMoments(image, 1);
    expect(patches).toBe(31 * 31);
    for (const m of mean) expect(m).toBeCloseTo(0.2, 12);
    for (const c of covariance) expect(Math.abs(c)).toBeLessThan(1e-12);
  });

  it('refuses wrong sizes with a message naming them', () => {
    expect(() => patchMoments(new Uint8Array(100), 1)).toThrow(/patch moments of 1 images need 3072 bytes, got 100/);
    expect(() => patchMoments(new Uint8Array(IMAGE_BYTES), 0)).toThrow(/at least one image, got 0/);
    expect(() => whiteningStem({ mean: new Float64Array(3), covariance: new Float64Array(9) })).toThrow(/12-value mean and a 12×12 covariance, got 3 and 9/);
  });
});

describe('whitenStem on airbench', () => {
  const options = { seed: 3, init: 'pytorch' as const, bnMomentum: 0.9, bnEpsilon: 1e-5, widths: [24, 8, 8, 8] as const };

  it("with whitenedStem the stem is frozen state, is written with the data's whitening, and a training step leaves it alone", async () => {
    const model = airbench({ ...options, whitenedStem: true });
    disposeAfter.push(model);
    const images = correlatedImages(8, 11);
    const written = whitenStem(model, images, 8);
    const replica = new Replica(model, { optimizer: { kind: 'sgd-nesterov', weightDecay: 5e-4, momentum: 0.9 }, labelSmoothing: 0.2 });
    const stemSlots = replica.layout.state.filter((s) => s.shape.join() === '2,2,3,24' || s.shape.join() === '24');
    expect(stemSlots.map((s) => s.shape)).toEqual([[2, 2, 3, 24], [24]]);
    expect(replica.layout.trainable.some((s) => s.shape.join() === '2,2,3,24')).toBe(false);
    const [kernelSlot, biasSlot] = stemSlots as [(typeof stemSlots)[0], (typeof stemSlots)[0]];
    expect(replica.state.subarray(kernelSlot.offset, kernelSlot.offset + kernelSlot.size)).toEqual(written.kernel);
    expect(replica.state.subarray(biasSlot.offset, biasSlot.offset + biasSlot.size)).toEqual(written.bias);

    const before = { params: replica.params.slice(), stem: replica.state.slice(kernelSlot.offset, kernelSlot.offset + kernelSlot.size) };
    const out = await replica.computeStep({ images: images.subarray(0, 2 * IMAGE_BYTES), labels: Uint8Array.from([0, 1]), augment: null });
    replica.applySummed(out.buffer, out.count, 0.1);
    expect(replica.params).not.toEqual(before.params);
    expect(replica.state.subarray(kernelSlot.offset, kernelSlot.offset + kernelSlot.size)).toEqual(before.stem);
  }, 60_000);

  it('without it the stem trains; a model without a 2×2 stem refuses to be whitened', () => {
    const model = airbench(options);
    disposeAfter.push(model);
    expect(model.trainableWeights.some((w) => w.shape.join() === '2,2,3,24')).toBe(true);
    const seed = buildModel('seed-cnn', 1);
    disposeAfter.push(seed);
    expect(() => whitenStem(seed, new Uint8Array(IMAGE_BYTES), 1)).toThrow(/model seed_cnn has no 2×2×3×24 stem to whiten/);
    expect(() => buildModel('resnet9', 1, { whitenedStem: true })).toThrow(/a whitened stem is airbench's; model "resnet9" has none/);
  });

  it('refuses images other than 32×32 RGB, which its patch statistics would misread', () => {
    const grey = buildModel('airbench', 1, { whitenedStem: true, shape: { inputShape: [32, 32, 1], numClasses: 10 } });
    disposeAfter.push(grey);
    expect(() => whitenStem(grey, new Uint8Array(4 * 32 * 32), 4)).toThrow(/from 32×32 RGB images; these are 32×32×1/);
  });

  it('replicaForRun whitens from the training images it is given, and builds a placeholder stem without them', () => {
    const images = correlatedImages(6, 5);
    const config = { ...AIRBENCH_RECIPE, whitenedStem: true };
    const first = replicaForRun(config, { images, labels: new Uint8Array(6), count: 6 });
    const worker = replicaForRun(config);
    disposeAfter.push(first.model, worker.model);
    const expected = whiteningStem(patchMoments(images, 6)).kernel;
    const stemOf = (r: Replica) => {
      const slot = r.layout.state.find((s) => s.shape.join() === '2,2,3,24')!;
      return r.state.slice(slot.offset, slot.offset + slot.size);
    };
    expect(stemOf(first)).toEqual(expected);
    expect(stemOf(worker)).not.toEqual(expected);
    // The worker's placeholder is replaced by the first state it is sent, as every worker's weights are.
    worker.setState(first.getState());
    expect(worker.weightsHash()).toBe(first.weightsHash());
  });
});
