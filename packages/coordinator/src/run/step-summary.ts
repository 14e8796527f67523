import type { WorkerStepStats } from '@gradsync/metrics';
import type { StepDoneMsg } from '@gradsync/protocol';
import { workerStepStats } from './worker-step-stats';

/** One step's answers folded together: per-rank figures by rank, and the sample-weighted step loss. */
export interface StepSummary {
  workers: WorkerStepStats[];
  /** Samples the answers cover. */
  samples: number;
  /** Sample-weighted mean loss (0 when no answer). */
  loss: number;
  correct: number;
  /** Every rank applied the update (false: the sum held NaN or Inf and all skipped it). */
  applied: boolean;
}

/**
 * `answers`: [rank, answer] pairs (a list: after a regroup a departed member's rank may repeat a
 * survivor's). `assigned`: the samples each rank was given, by rank, when known: each worker's
 * share of the batch is recorded from it.
 */
export function summarizeStep(answers: readonly (readonly [number, StepDoneMsg])[], assigned?: readonly number[]): StepSummary {
  const ranked = [...answers].sort((a, b) => a[0] - b[0]);
  const batch = assigned ? assigned.reduce((a, c) => a + c, 0) : 0;
  const workers = ranked.map(([rank, d]) => workerStepStats(rank, d, batch > 0 && assigned?.[rank] !== undefined ? assigned[rank] / batch : undefined));
  const samples = workers.reduce((a, x) => a + x.count, 0);
  return {
    workers,
    samples,
    loss: samples ? workers.reduce((a, x) => a + x.loss * x.count, 0) / samples : 0,
    correct: workers.reduce((a, x) => a + x.correct, 0),
    applied: ranked.every(([, d]) => d.applied),
  };
}

/**
 * Rank 0's hash against the others', on a step where replicas report one: the ranks that differ.
 * Empty when they all agree.
 */
export function divergedRanks(hashes: ReadonlyMap<number, string>): { reference: string; differ: { rank: number; hash: string }[] } {
  const reference = hashes.get(0) ?? '';
  const differ = [...hashes.entries()].filter(([, hash]) => hash !== reference).map(([rank, hash]) => ({ rank, hash }));
  return { reference, differ };
}
