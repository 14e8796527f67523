/**
 * The epoch sampler as pure functions: a seeded permutation per epoch (the same on every rank),
 * the global batches cut from it (the last partial batch is kept), and the split of one global
 * batch across ranks (evenly, or by given counts).
 */
import { GradsyncError, mixKeys, mulberry32 } from '@gradsync/core';

/** Key that separates the sampler's random stream from other uses of the same run seed. */
const SAMPLER_STREAM = 0x5a4d_504c; // "SMPL"

/** A permutation of 0..n-1 for (seed, epoch): seeded Fisher–Yates, identical on every rank. */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  requireInteger('seed', seed, -0x8000_0000, 0xffff_ffff);
  requireInteger('epoch', epoch, 0, 0xffff_ffff);
  requireInteger('n', n, 0, 0xffff_ffff);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const random = mulberry32(mixKeys(SAMPLER_STREAM, seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/** Number of global batches in an epoch of n samples: ceil(n / globalBatch); the last may be partial. */
export function stepsPerEpoch(n: number, globalBatch: number): number {
  requireInteger('n', n, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('globalBatch', globalBatch, 1, Number.MAX_SAFE_INTEGER);
  return Math.ceil(n / globalBatch);
}

/** The sample indices of global batch `step` (0-based within the epoch); a copy, safe to send. */
export function globalBatchIndices(perm: Uint32Array, step: number, globalBatch: number): Uint32Array {
  const steps = stepsPerEpoch(perm.length, globalBatch);
  requireInteger('step', step, 0, Number.MAX_SAFE_INTEGER);
  if (step >= steps) {
    throw new GradsyncError(
      'SAMPLER_BAD_ARGUMENT',
      `step ${step} is past the end of the epoch: ${perm.length} samples in batches of ${globalBatch} make ${steps} steps`,
    );
  }
  const start = step * globalBatch;
  return perm.slice(start, Math.min(start + globalBatch, perm.length));
}

/**
 * The part [start, end) of a global batch of `batchSize` samples that `rank` of `worldSize` takes:
 * as even as possible (sizes differ by at most 1, the lower ranks take the extra ones);
 * a rank gets an empty range when the batch is smaller than the world.
 */
export function shardOfBatch(batchSize: number, worldSize: number, rank: number): { start: number; end: number } {
  requireInteger('batchSize', batchSize, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('worldSize', worldSize, 1, Number.MAX_SAFE_INTEGER);
  requireInteger('rank', rank, 0, worldSize - 1);
  const base = Math.floor(batchSize / worldSize);
  const extra = batchSize % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return { start, end: start + base + (rank < extra ? 1 : 0) };
}

/**
 * The parts [start, end) of a global batch that ranks 0..n-1 take when rank r takes `counts[r]`
 * samples: contiguous, in rank order, covering the batch exactly (the counts must add up to it).
 */
export function shardsOfCounts(batchSize: number, counts: readonly number[]): { start: number; end: number }[] {
  requireInteger('batchSize', batchSize, 0, Number.MAX_SAFE_INTEGER);
  counts.forEach((c, r) => requireInteger(`counts[${r}]`, c, 0, batchSize));
  const total = counts.reduce((a, c) => a + c, 0);
  if (total !== batchSize) throw new GradsyncError('SAMPLER_BAD_ARGUMENT', `shard counts add up to ${total}, not to the batch of ${batchSize}`);
  let start = 0;
  return counts.map((c) => ({ start, end: (start += c) }));
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GradsyncError('SAMPLER_BAD_ARGUMENT', `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
