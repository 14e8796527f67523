import * as tf from '@tensorflow/tfjs-core';
import { type AugmentParams, transformFor } from './params';

/**
 * Augments a batch on the current backend: one projective transform per sample, bilinear
 * sampling with reflect fill (Keras RandomZoom's defaults). Returns a new tensor.
 */
export function augmentBatch(images: tf.Tensor4D, params: readonly AugmentParams[]): tf.Tensor4D {
  const [n, h, w] = images.shape;
  if (params.length !== n) {
    throw new Error(`augmentBatch: ${params.length} parameter sets for a batch of ${n}`);
  }
  if (n === 0) return images.clone();
  return tf.tidy(() => {
    const flat = new Float32Array(n * 8);
    params.forEach((p, i) => flat.set(transformFor(p, h, w), i * 8));
    return tf.image.transform(images, tf.tensor2d(flat, [n, 8]), 'bilinear', 'reflect');
  });
}
