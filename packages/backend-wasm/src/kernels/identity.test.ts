import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmWithTrainingKernels, seededValues } from '../node/compare-backends';

describe('Identity on wasm', () => {
  beforeAll(initWasmWithTrainingKernels);

  it('returns the same values without copying the buffer', () => {
    const x = tf.tensor(seededValues(24, 1), [2, 3, 4]);
    const ids = tf.backend().numDataIds();
    const y = tf.clone(x);
    expect(tf.backend().numDataIds()).toBe(ids);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
  });

  it('keeps the data alive until the last tensor sharing it is disposed', () => {
    const x = tf.tensor([1, 2, 3], [3], 'int32');
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const ids = tf.backend().numDataIds();
    y.dispose();
    expect(tf.backend().numDataIds()).toBe(ids - 1);
  });

  it('leaves a variable assigned from a clone independent of later assignments', () => {
    const v = tf.variable(tf.tensor([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor([5, 6]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2]);
    tf.dispose([v, snapshot]);
  });

  it('copies strings through the original kernel', () => {
    const s = tf.tensor(['a', 'bc']);
    const c = tf.clone(s);
    expect(c.dataSync()).toEqual(['a', 'bc']);
    tf.dispose([s, c]);
  });
});
