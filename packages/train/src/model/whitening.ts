/**
 * airbench's frozen whitening stem: a 2×2 conv whose filters are the eigenvectors of the training
 * images' 2×2 patch covariance, each scaled by 1/√(eigenvalue + ε), once as they are and once
 * negated (so the ReLU after it drops nothing). The first layer then sees decorrelated,
 * unit-variance inputs from step one instead of learning to find them. Pure functions over uint8
 * HWC images; `whitenStem` writes the result into a built model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { GradsyncError } from '@gradsync/core';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_SIDE } from '@gradsync/data/browser';
import { modelShape } from './model-shape';

/** The stem's patch side (airbench's 2×2). */
export const STEM_PATCH = 2;
/** Values in a patch: 2 × 2 × 3 = 12; the stem has twice as many filters (each ±). */
export const PATCH_VALUES = STEM_PATCH * STEM_PATCH * IMAGE_CHANNELS;
/** airbench whitens from the first 5,000 training images: the estimate is already stable there. */
export const WHITENING_IMAGES = 5000;
/**
 * airbench's ε (5e-4 on per-channel standardised pixels), here relative to the mean patch value
 * variance because our pixels are in [0, 1]: it keeps the faintest directions from being blown up.
 */
export const WHITENING_EPSILON = 5e-4;

export interface PatchMoments {
  /** Mean patch, PATCH_VALUES long, in the kernel's order: (row, column, channel). */
  mean: Float64Array;
  /** Covariance, PATCH_VALUES² row-major. */
  covariance: Float64Array;
  patches: number;
}

/** Mean and covariance of every 2×2 patch (valid positions) of the first `count` images, pixels scaled to [0, 1]. */
export function patchMoments(images: Uint8Array, count: number): PatchMoments {
  if (!Number.isInteger(count) || count < 1) throw new GradsyncError('E_SHAPE', `patch moments need at least one image, got ${count}`);
  if (images.length < count * IMAGE_BYTES) {
    throw new GradsyncError('E_SHAPE', `patch moments of ${count} images need ${count * IMAGE_BYTES} bytes, got ${images.length}`);
  }
  const d = PATCH_VALUES;
  const sum = new Float64Array(d);
  const products = new Float64Array(d * d);
  const patch = new Float64Array(d);
  const side = IMAGE_SIDE - STEM_PATCH + 1;
  const rowBytes = IMAGE_SIDE * IMAGE_CHANNELS;
  for (let n = 0; n < count; n++) {
    const base = n * IMAGE_BYTES;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let k = 0;
        for (let dy = 0; dy < STEM_PATCH; dy++) {
          const row = base + (y + dy) * rowBytes + x * IMAGE_CHANNELS;
          for (let j = 0; j < STEM_PATCH * IMAGE_CHANNELS; j++) patch[k++] = images[row + j]! / 255;
        }
        for (let i = 0; i < d; i++) {
          const pi = patch[i]!;
          sum[i]! += pi;
          // Upper triangle only; mirrored below.
          for (let j = i; j < d; j++) products[i * d + j]! += pi * patch[j]!;
        }
      }
    }
  }
  const patches = count * side * side;
  const mean = sum.map((s) => s / patches);
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const c = products[i * d + j]! / patches - mean[i]! * mean[j]!;
      covariance[i * d + j] = c;
      covariance[j * d + i] = c;
    }
  }
  return { mean, covariance, patches };
}

export interface StemWeights {
  /** [2, 2, 3, 2·PATCH_VALUES] (tfjs' kernel layout), flattened. */
  kernel: Float32Array;
  /** 2·PATCH_VALUES: centres each filter's output on the mean patch. */
  bias: Float32Array;
  /** Eigenvalues, largest first (the variance along each filter before scaling; tests check against them). */
  eigenvalues: Float64Array;
}

/**
 * The whitening filters for these moments: filter k (k < 12) is the k-th eigenvector (largest
 * eigenvalue first) divided by √(λ_k + ε·mean variance), filter 12 + k its negation; the bias
 * subtracts the mean patch, so the pre-activation outputs have mean 0 and (nearly) unit variance.
 */
export function whiteningStem(moments: Pick<PatchMoments, 'mean' | 'covariance'>, epsilon = WHITENING_EPSILON): StemWeights {
  const d = PATCH_VALUES;
  if (moments.mean.length !== d || moments.covariance.length !== d * d) {
    throw new GradsyncError(
      'E_SHAPE',
      `whitening needs a ${d}-value mean and a ${d}×${d} covariance, got ${moments.mean.length} and ${moments.covariance.length}`,
    );
  }
  const rows = Array.from({ length: d }, (_, i) => Array.from(moments.covariance.subarray(i * d, (i + 1) * d)));
  const eig = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const values = eig.realEigenvalues;
  const vectors = eig.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += moments.covariance[i * d + i]!;
  const floor = epsilon * (trace / d);
  const filters = 2 * d;
  const kernel = new Float32Array(d * filters);
  const bias = new Float32Array(filters);
  order.forEach((column, k) => {
    const scale = 1 / Math.sqrt(Math.max(values[column]!, 0) + floor);
    let centre = 0;
    for (let p = 0; p < d; p++) {
      const w = vectors.get(p, column) * scale;
      kernel[p * filters + k] = w;
      kernel[p * filters + d + k] = -w;
      centre += w * moments.mean[p]!;
    }
    bias[k] = -centre;
    bias[d + k] = centre;
  });
  return { kernel, bias, eigenvalues: Float64Array.from(order, (i) => values[i]!) };
}

/** The model's whitening stem: its first layer with a [2, 2, 3, 24] kernel. */
function stemLayer(model: tfl.LayersModel): tfl.layers.Layer {
  const want = [STEM_PATCH, STEM_PATCH, IMAGE_CHANNELS, 2 * PATCH_VALUES].join(',');
  const layer = model.layers.find((l) => l.weights.length > 0 && l.weights[0]!.shape.join(',') === want);
  if (!layer) throw new GradsyncError('E_MODEL', `model ${model.name} has no ${want.replaceAll(',', '×')} stem to whiten`);
  if (layer.weights.length !== 2) throw new GradsyncError('E_MODEL', `the stem of ${model.name} must have a kernel and a bias`);
  return layer;
}

/** The log line of a run that whitens its stem from `trainCount` training images. */
export function whitenedStemNote(trainCount: number): string {
  return `stem whitened from the first ${Math.min(trainCount, WHITENING_IMAGES)} training images' 2×2 patches (frozen from here on)`;
}

/** Sets the model's stem to the whitening of the first WHITENING_IMAGES of `images`; returns the weights written. */
export function whitenStem(model: tfl.LayersModel, images: Uint8Array, count: number): StemWeights {
  // The patch statistics read 32 × 32 RGB images (IMAGE_SIDE, IMAGE_CHANNELS): any other shape would be misread, not refused.
  const input = modelShape(model).inputShape;
  if (input.join('x') !== [IMAGE_SIDE, IMAGE_SIDE, IMAGE_CHANNELS].join('x')) {
    throw new GradsyncError(
      'E_CONFIG',
      `--whiten-stem computes airbench's whitening from 32×32 RGB images; these are ${input.join('×')} (leave --whiten-stem off)`,
    );
  }
  const layer = stemLayer(model);
  const weights = whiteningStem(patchMoments(images, Math.min(count, WHITENING_IMAGES)));
  const [kernel, bias] = layer.weights as [tfl.LayerVariable, tfl.LayerVariable];
  const values = [tf.tensor(weights.kernel, kernel.shape as number[]), tf.tensor(weights.bias, bias.shape as number[])];
  layer.setWeights(values);
  tf.dispose(values);
  return weights;
}
