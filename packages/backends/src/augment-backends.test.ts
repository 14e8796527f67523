import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './index';
import { mulberry32 } from '@gradsync/core';
import { type AugmentConfig, augmentBatch, augmentParamsFor, CROP_FLIP_AUGMENT, SEED_AUGMENT } from '@gradsync/train';

const N = 6;

/** One call for the whole batch, or (perSample) one call per image. */
async function augmentOn(backend: 'wasm' | 'cpu', perSample: boolean, config: AugmentConfig) {
  await selectBackend({ backend });
  const rnd = mulberry32(1);
  const pixels = new Float32Array(N * 3072).map(() => rnd());
  const params = Array.from({ length: N }, (_, i) => augmentParamsFor(config, 1, 0, i));
  const data = new Float32Array(N * 3072);
  const parts = perSample ? params.map((p, i) => [i, [p]] as const) : [[0, params] as const];
  for (const [first, ps] of parts) {
    const x = tf.tensor4d(pixels.subarray(first * 3072, (first + ps.length) * 3072), [ps.length, 32, 32, 3]);
    const out = augmentBatch(x, ps);
    data.set(out.dataSync(), first * 3072);
    tf.dispose([x, out]);
  }
  return data;
}

describe('augmentBatch on the training backend', () => {
  // tfjs-backend-cpu's Transform returns after the first image of a batch, and wasm's own kernel
  // reflects out-of-range coordinates wrongly; gradsync registers its own for wasm. The reference
  // is therefore the cpu kernel one image at a time (TensorFlow's algorithm).
  it.each([
    ['flip and zoom', SEED_AUGMENT],
    ['flip and crop', CROP_FLIP_AUGMENT],
  ] as const)(
    'gives every image of a batch its own transform, with reflect fill as TensorFlow does (%s)',
    async (_, config) => {
      const wasm = await augmentOn('wasm', false, config);
      const cpu = await augmentOn('cpu', true, config);
      for (let i = 0; i < N; i++) {
        let maxDiff = 0;
        for (let k = i * 3072; k < (i + 1) * 3072; k++) maxDiff = Math.max(maxDiff, Math.abs(wasm[k] - cpu[k]));
        expect(maxDiff, `image ${i}`).toBeLessThan(1e-4);
      }
    },
    60_000,
  );
});
