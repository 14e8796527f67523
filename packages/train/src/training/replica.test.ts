import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentParamsFor, SEED_AUGMENT } from '../augment/index';
import { buildModel } from '../model/index';
import { mulberry32 } from '@gradsync/core';
import { Replica } from './replica';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Class k is a bright bar in one of 10 spots plus noise: learnable in a few steps (not flip-invariant). */
function toyBatch(n: number, seed: number) {
  const rnd = mulberry32(seed);
  const images = new Uint8Array(n * 3072);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * 10);
    labels[i] = k;
    const y0 = Math.floor(k / 5) * 16;
    const x0 = (k % 5) * 6;
    for (let p = 0; p < 1024; p++) {
      const y = Math.floor(p / 32);
      const x = p % 32;
      const inside = y >= y0 && y < y0 + 12 && x >= x0 && x < x0 + 6;
      for (let c = 0; c < 3; c++) images[i * 3072 + p * 3 + c] = (inside ? 200 : 30) + Math.floor(rnd() * 40);
    }
  }
  return { images, labels };
}

describe('Replica', () => {
  it('packs gradient and BatchNorm state into one buffer scaled by the sample count', async () => {
    const replica = new Replica(buildModel('seed-cnn', 1));
    // 4 conv (kernel+bias) + 2 dense (kernel+bias) + 2 BN (gamma+beta) trainable; 2 BN x (mean, var) state
    expect(replica.layout.trainable.length).toBe(16);
    expect(replica.layout.state.length).toBe(4);
    expect(replica.layout.trainableSize).toBe(896 + 9248 + 18496 + 36928 + 102464 + 650 + 2 * 32 + 2 * 64);
    expect(replica.layout.stateSize).toBe(2 * 32 + 2 * 64);
    expect(replica.bufferLength).toBe(replica.layout.trainableSize + replica.layout.stateSize);
  });

  it('learns a toy task, without leaking tensors', async () => {
    const replica = new Replica(buildModel('linear', 3));
    const eval0 = toyBatch(200, 99);
    const before = await replica.evaluate(eval0.images, eval0.labels);
    let tensorsAfterFirst = -1;
    for (let step = 0; step < 40; step++) {
      const { images, labels } = toyBatch(32, step);
      const augment = Array.from({ length: 32 }, (_, i) => augmentParamsFor({ ...SEED_AUGMENT, flip: false }, 5, 0, step * 32 + i));
      const out = await replica.computeStep({ images, labels, augment });
      replica.applySummed(out.buffer, out.count, 3e-3);
      if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const after = await replica.evaluate(eval0.images, eval0.labels);
    expect(after.count).toBe(200);
    expect(after.confusion.reduce((a, b) => a + b, 0)).toBe(200);
    expect(after.lossSum).toBeLessThan(before.lossSum * 0.6);
    expect(after.correct / after.count).toBeGreaterThan(0.35); // chance is 0.1
  });

  it('restores state exactly and hashes every weight', async () => {
    const a = new Replica(buildModel('tiny-cnn', 4));
    const b = new Replica(buildModel('tiny-cnn', 5));
    expect(a.weightsHash()).not.toBe(b.weightsHash());
    b.setState(a.getState());
    expect(b.weightsHash()).toBe(a.weightsHash());
    const { images, labels } = toyBatch(4, 7);
    const [oa, ob] = [await a.computeStep({ images, labels, augment: null }), await b.computeStep({ images, labels, augment: null })];
    expect(Array.from(ob.buffer)).toEqual(Array.from(oa.buffer));
    expect(() => a.setState(new Replica(buildModel('linear', 1)).getState())).toThrow(/do not fit/);
  });

  it('same seed builds the same weights', () => {
    expect(new Replica(buildModel('seed-cnn', 11)).weightsHash()).toBe(new Replica(buildModel('seed-cnn', 11)).weightsHash());
  });

  describe('handing the buffer over in buckets (overlapped all-reduce)', () => {
    it('refuses a buffer of the wrong length, and buckets with synchronised BatchNorm', async () => {
      const replica = new Replica(buildModel('tiny-cnn', 1));
      const { images, labels } = toyBatch(2, 1);
      const hooks = { into: new Float32Array(replica.bufferLength - 1), onBucketReady: () => {} };
      await expect(replica.computeStep({ images, labels, augment: null }, undefined, hooks)).rejects.toThrow(/step buffer has \d+ floats, the model needs/);
    });
  });
});
