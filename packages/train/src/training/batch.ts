import { GradsyncError } from '@gradsync/core';

export interface Samples {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Bytes of one image in a split, whatever the data's image shape: the split's images are whole ones. */
function bytesPerSample(split: Samples): number {
  if (split.count === 0) return 0;
  const bytes = split.images.length / split.count;
  if (!Number.isInteger(bytes))
    throw new GradsyncError('E_SHAPE', `a split of ${split.count} images holds ${split.images.length} bytes, not a whole number per image`);
  return bytes;
}

/** Copies the samples at `indices` out of a split into one contiguous batch. */
export function gatherSamples(split: Samples, indices: ArrayLike<number>): { images: Uint8Array; labels: Uint8Array } {
  const n = indices.length;
  const imageBytes = bytesPerSample(split);
  const images = new Uint8Array(n * imageBytes);
  const labels = new Uint8Array(n);
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
  const imageBytes = bytesPerSample(split);
  return {
    images: split.images.subarray(start * imageBytes, end * imageBytes),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}
