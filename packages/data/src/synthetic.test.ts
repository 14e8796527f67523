import { describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from './synthetic';
import { IMAGE_BYTES, NUM_CLASSES, type CifarSplit } from './types';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

describe('makeSyntheticCifar10', () => {
  const data = makeSyntheticCifar10({ train: 400, test: 100, seed: 7 });

  it('has the CIFAR-10 shape and labels 0..9', () => {
    expect(data.train.count).toBe(400);
    expect(data.train.images.length).toBe(400 * IMAGE_BYTES);
    expect(data.test.labels.length).toBe(100);
    expect(data.classNames).toHaveLength(NUM_CLASSES);
    expect(data.train.labels.every((l) => l < NUM_CLASSES)).toBe(true);
    const histogram = new Array(NUM_CLASSES).fill(0);
    for (const l of data.train.labels as Uint8Array) histogram[l]++;
    expect(Math.min(...histogram)).toBeGreaterThan(15);
    expect(data.source).toContain('synthetic');
  });

  it('is deterministic for a seed, differs across seeds, and image i does not depend on the split size', () => {
    const again = makeSyntheticCifar10({ train: 60, test: 20, seed: 7 });
    expect(same(again.train.images, data.train.images.subarray(0, 60 * IMAGE_BYTES))).toBe(true);
    expect(same(again.test.labels as Uint8Array, (data.test.labels as Uint8Array).subarray(0, 20))).toBe(true);
    const other = makeSyntheticCifar10({ train: 60, test: 0, seed: 8 });
    expect(same(other.train.images, again.train.images)).toBe(false);
    expect(same(data.train.images.subarray(0, 100 * IMAGE_BYTES), data.test.images)).toBe(false);
  });

  it('varies within a class (noise and jitter), so no image repeats', () => {
    const firstTwoOfClass = [...data.train.labels.keys()].filter((i) => data.train.labels[i] === 3).slice(0, 2);
    const [a, b] = firstTwoOfClass.map((i) => data.train.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES));
    expect(same(a, b)).toBe(false);
  });

  it('is learnable: a nearest-class-mean classifier on the pixels beats chance by far', () => {
    // A stand-in for "a small CNN learns it quickly", with no TensorFlow in the data module.
    const accuracy = nearestMeanAccuracy(data.train, data.test);
    expect(accuracy).toBeGreaterThan(0.6);
  });

  it('rejects bad options', () => {
    expect(() => makeSyntheticCifar10({ train: -1, test: 1, seed: 0 })).toThrow(/train size/);
    expect(() => makeSyntheticCifar10({ train: 1, test: 1, seed: 0.5 })).toThrow(/seed/);
    expect(() => makeSyntheticCifar10({ train: 1, test: 1, seed: 0, noise: 2 })).toThrow(/noise/);
  });
});

/** Classifies each test image by the nearest per-class mean of 4x4-pooled RGB values. */
function nearestMeanAccuracy(train: CifarSplit, test: CifarSplit): number {
  const features = (split: CifarSplit, i: number) => {
    const f = new Float64Array(8 * 8 * 3);
    for (let p = 0; p < 1024; p++) {
      const cell = (Math.floor(Math.floor(p / 32) / 4) * 8 + Math.floor((p % 32) / 4)) * 3;
      for (let c = 0; c < 3; c++) f[cell + c] += split.images[i * IMAGE_BYTES + p * 3 + c] / 16;
    }
    return f;
  };
  const means = Array.from({ length: NUM_CLASSES }, () => new Float64Array(192));
  const counts = new Array(NUM_CLASSES).fill(0);
  for (let i = 0; i < train.count; i++) {
    const f = features(train, i);
    counts[train.labels[i]]++;
    f.forEach((v, k) => (means[train.labels[i]][k] += v));
  }
  means.forEach((m, c) => m.forEach((_, k) => (m[k] /= Math.max(1, counts[c]))));
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    const f = features(test, i);
    let best = 0;
    let bestDistance = Infinity;
    means.forEach((m, c) => {
      const d = m.reduce((s, v, k) => s + (v - f[k]) ** 2, 0);
      if (d < bestDistance) [best, bestDistance] = [c, d];
    });
    if (best === test.labels[i]) correct++;
  }
  return correct / test.count;
}
