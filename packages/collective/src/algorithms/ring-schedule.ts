/**
 * The ring all-reduce schedule as pure functions of (length, world, rank, step).
 *
 * The buffer is cut into `world` contiguous chunks. Reduce-scatter runs world−1 steps: at step k,
 * rank r sends chunk (r−k) mod N to rank r+1 and receives chunk (r−k−1) mod N from rank r−1,
 * adding it to its own copy. Afterwards rank r holds the complete sum of chunk (r+1) mod N.
 * All-gather runs world−1 more steps: at step k, rank r sends chunk (r+1−k) mod N and receives
 * chunk (r−k) mod N, copying it over its own.
 *
 * Determinism: the sum of chunk c is built once, along the ring, in the fixed order
 * ((x_c + x_{c+1}) + x_{c+2}) + … and finished on rank c−1; every other rank receives those
 * finished bytes by copy. So all ranks end with bit-identical buffers.
 */
import { GradsyncError } from '@gradsync/core';

/** Half-open element range [start, end) of a Float32Array. */
export interface ElementRange {
  readonly start: number;
  readonly end: number;
}

export type RingPhase = 'reduce-scatter' | 'all-gather';

/** What one rank does at one step of the ring. */
export interface RingStep {
  readonly phase: RingPhase;
  /** Step within its phase, 0 … world−2. */
  readonly step: number;
  /** Step over both phases, 0 … 2·(world−1)−1. */
  readonly globalStep: number;
  /** Chunk this rank sends to rank+1. */
  readonly sendChunk: number;
  /** Chunk this rank receives from rank−1. */
  readonly recvChunk: number;
  /** How the received chunk is combined with the local one. */
  readonly combine: 'add' | 'copy';
}

/** Largest world the schedules accept (chunk indices travel as u32; this keeps tables small). */
export const MAX_WORLD = 4096;

export function checkWorld(world: number): void {
  if (!Number.isInteger(world) || world < 1 || world > MAX_WORLD) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `world size must be an integer in 1..${MAX_WORLD}, got ${world}`);
  }
}

export function checkRank(rank: number, world: number): void {
  checkWorld(world);
  if (!Number.isInteger(rank) || rank < 0 || rank >= world) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `rank must be an integer in 0..${world - 1}, got ${rank}`);
  }
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `buffer length must be a non-negative integer, got ${length}`);
  }
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/**
 * Cuts `length` elements into `world` contiguous chunks whose sizes differ by at most one
 * (the first `length % world` chunks are one longer). With length < world, the trailing chunks
 * are empty.
 */
export function ringChunkBounds(length: number, world: number): ElementRange[] {
  checkLength(length);
  checkWorld(world);
  const base = Math.floor(length / world);
  const extra = length % world;
  const bounds: ElementRange[] = [];
  let start = 0;
  for (let c = 0; c < world; c++) {
    const end = start + base + (c < extra ? 1 : 0);
    bounds.push({ start, end });
    start = end;
  }
  return bounds;
}

/** Number of steps in each phase. */
export function ringStepsPerPhase(world: number): number {
  checkWorld(world);
  return world - 1;
}

/** Rank that rank `rank` sends to. */
export function ringNext(rank: number, world: number): number {
  checkRank(rank, world);
  return (rank + 1) % world;
}

/** Rank that rank `rank` receives from. */
export function ringPrev(rank: number, world: number): number {
  checkRank(rank, world);
  return (rank + world - 1) % world;
}

/** The chunk whose complete sum rank `rank` holds after reduce-scatter. */
export function ringOwnedChunk(rank: number, world: number): number {
  checkRank(rank, world);
  return (rank + 1) % world;
}

/** What rank `rank` sends and receives at `step` of `phase`. */
export function ringStep(rank: number, world: number, phase: RingPhase, step: number): RingStep {
  checkRank(rank, world);
  if (!Number.isInteger(step) || step < 0 || step >= world - 1) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `ring step must be an integer in 0..${world - 2}, got ${step}`);
  }
  if (phase === 'reduce-scatter') {
    return {
      phase,
      step,
      globalStep: step,
      sendChunk: mod(rank - step, world),
      recvChunk: mod(rank - step - 1, world),
      combine: 'add',
    };
  }
  return {
    phase,
    step,
    globalStep: world - 1 + step,
    sendChunk: mod(rank + 1 - step, world),
    recvChunk: mod(rank - step, world),
    combine: 'copy',
  };
}

/** Every step of rank `rank`, in order: reduce-scatter then all-gather (2·(world−1) steps). */
export function ringSchedule(rank: number, world: number): RingStep[] {
  checkRank(rank, world);
  const steps: RingStep[] = [];
  for (const phase of ['reduce-scatter', 'all-gather'] as const) {
    for (let k = 0; k < world - 1; k++) steps.push(ringStep(rank, world, phase, k));
  }
  return steps;
}
