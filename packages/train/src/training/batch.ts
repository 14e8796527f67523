import { GradsyncError } from '@gradsync/core';
import { bytesPerImage } from '@gradsync/data/browser';

/** Class indices: 8 bits up to 256 classes, 16 beyond (as the data set stores them). */
export type LabelArray = Uint8Array | Uint16Array;

export interface Samples {
  images: Uint8Array;
  labels: LabelArray;
  count: number;
}

/** Copies the samples at `indices` out of a split into one contiguous batch. */
export function gatherSamples(split: Samples, indices: ArrayLike<number>): { images: Uint8Array; labels: LabelArray } {
  const n = indices.length;
  const imageBytes = bytesPerImage(split);
  const images = new Uint8Array(n * imageBytes);
  const labels = split.labels instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < split.count)) throw new GradsyncError('E_INDEX', `sample index ${j} is outside the split of ${split.count}`);
    images.set(split.images.subarray(j * imageBytes, (j + 1) * imageBytes), i * imageBytes);
    labels[i] = split.labels[j];
  }
  return { images, labels };
}

/** A contiguous range of a split as a view (no copy). */
export function sliceSamples(split: Samples, start: number, end: number): Samples {
  const imageBytes = bytesPerImage(split);
  return {
    images: split.images.subarray(start * imageBytes, end * imageBytes),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}
