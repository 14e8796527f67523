import { GradsyncError } from '@gradsync/core';

const IMAGE_BYTES = 32 * 32 * 3;

export interface Samples {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Copies the samples at `indices` out of a split into one contiguous batch. */
export function gatherSamples(split: Samples, indices: ArrayLike<number>): { images: Uint8Array; labels: Uint8Array } {
  const n = indices.length;
  const images = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < split.count)) throw new GradsyncError('E_INDEX', `sample index ${j} is outside the split of ${split.count}`);
    images.set(split.images.subarray(j * IMAGE_BYTES, (j + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[j];
  }
  return { images, labels };
}

/** A contiguous range of a split as a view (no copy). */
export function sliceSamples(split: Samples, start: number, end: number): Samples {
  return {
    images: split.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}
