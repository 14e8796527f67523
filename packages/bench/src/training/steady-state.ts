/**
 * Steady-state throughput of a training run, from the step records of its metrics.jsonl.
 *
 * A step record's imagesPerSec is the global batch over the wall time the coordinator saw for that
 * step (from sending the previous step's work, or the epoch's start, to the last worker's report),
 * so evaluation between epochs is in no step. The first `warmupSteps` steps of the run (tfjs
 * compiling and allocating, sockets warming up) are left out.
 */
import { GradsyncError, median } from '@gradsync/core';
import type { StepRecord } from '@gradsync/metrics';

/** One rank's median share of a steady step, in milliseconds. */
export interface RankStepSplit {
  rank: number;
  /** Median samples this rank computed per step. */
  samples: number;
  /** Forward, backward, packing, and applying the summed gradient (Adam). */
  computeMs: number;
  /** Inside the all-reduce, from sending the first byte to holding the sum. */
  allreduceMs: number;
  /** From reporting the previous step to receiving this one: the coordinator's round trip. */
  waitMs: number;
}

export interface SteadyState {
  /** Steps counted (after the warm-up ones). */
  steps: number;
  warmupSteps: number;
  /** Median global batch of the counted steps. */
  globalBatch: number;
  /** Median over the counted steps of each step's global img/s: the headline figure. */
  medianImagesPerSec: number;
  /** Total images / total wall time of the counted steps. */
  meanImagesPerSec: number;
  /** Median wall time of a step as the coordinator saw it. */
  medianStepMs: number;
  ranks: RankStepSplit[];
  /**
   * Median over the counted steps of (least allreduceMs of any rank) / step wall time. The rank
   * that finishes computing last waits for no one inside the all-reduce, so its time there is the
   * transfer and the reduction alone; the others' also include waiting for it. This share is the
   * most that overlapping the all-reduce with the backward pass could take off a step.
   */
  allreduceShare: number;
}

export function steadyState(records: readonly StepRecord[], warmupSteps: number): SteadyState {
  const sorted = [...records].sort((a, b) => a.step - b.step);
  const counted = sorted.slice(warmupSteps);
  if (counted.length === 0) {
    throw new GradsyncError('E_BENCH', `the run has ${sorted.length} steps, none left after ${warmupSteps} warm-up steps: train on more images`);
  }
  const stepMs = counted.map((s) => (s.samples * 1000) / s.imagesPerSec);
  const totalImages = counted.reduce((a, s) => a + s.samples, 0);
  const totalMs = stepMs.reduce((a, b) => a + b, 0);
  const rankIds = [...new Set(counted.flatMap((s) => s.workers.map((w) => w.rank)))].sort((a, b) => a - b);
  const ranks = rankIds.map((rank) => {
    const mine = counted.flatMap((s) => s.workers.filter((w) => w.rank === rank));
    return {
      rank,
      samples: median(mine.map((w) => w.count)),
      computeMs: median(mine.map((w) => w.computeMs)),
      allreduceMs: median(mine.map((w) => w.allreduceMs)),
      waitMs: median(mine.map((w) => w.waitMs)),
    };
  });
  const shares = counted.map((s, i) => Math.min(...s.workers.map((w) => w.allreduceMs)) / stepMs[i]);
  return {
    steps: counted.length,
    warmupSteps,
    globalBatch: median(counted.map((s) => s.samples)),
    medianImagesPerSec: median(counted.map((s) => s.imagesPerSec)),
    meanImagesPerSec: (totalImages * 1000) / totalMs,
    medianStepMs: median(stepMs),
    ranks,
    allreduceShare: median(shares),
  };
}
