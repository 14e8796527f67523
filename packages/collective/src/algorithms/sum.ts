/**
 * The arithmetic of the reductions.
 *
 * Note [Float32 sums]
 * Float32 addition of two float32 values computed in JS (double precision, then rounded on
 * store) is exactly IEEE float32 addition, as is WebAssembly's f32.add and each lane of
 * f32x4.add: a sum taken in a fixed order gives the same bits on every machine and in every one
 * of these kernels (simd-add.ts). Only a NaN's payload may differ between them.
 */
import { GradsyncError } from '@gradsync/core';

/** target[i] = target[i] + source[i], in place. */
export function addInto(target: Float32Array, source: Float32Array): void {
  if (target.length !== source.length) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `cannot add ${source.length} elements into ${target.length}`);
  }
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}

/** Sum of the contributions in rank order: ((x0 + x1) + x2) + …, as a new array. */
export function rankOrderSum(contributions: readonly Float32Array[]): Float32Array {
  if (contributions.length === 0) {
    throw new GradsyncError('E_ALLREDUCE_ARG', 'rank-order sum needs at least one contribution');
  }
  const sum = Float32Array.from(contributions[0]);
  for (let r = 1; r < contributions.length; r++) addInto(sum, contributions[r]);
  return sum;
}

/**
 * Turns an all-reduced sum of (gradient × sample count) into the weighted mean by dividing, in
 * place, by the global sample count. Returns `sum`.
 */
export function weightedMeanFromSum(sum: Float32Array, totalSamples: number): Float32Array {
  if (!Number.isFinite(totalSamples) || totalSamples <= 0) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `total sample count must be a positive number, got ${totalSamples}`);
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= totalSamples;
  return sum;
}
