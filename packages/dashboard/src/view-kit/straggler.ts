import type { StepRecord, WorkerStepStats } from '@gradsync/metrics';

/**
 * The member that held a step back. In a synchronous step nobody applies the update before the
 * last gradient is in, so the step waits on the rank whose gradient took longest; the others
 * idle for the difference (inside the all-reduce). Gradient time where workers report it (it
 * leaves out applying the update, which every rank does after the sum), else compute time.
 */
export interface Straggler {
  step: number;
  rank: number;
  /** Its gradient (or compute) time, ms. */
  computeMs: number;
  /** The next slowest rank's: what the step would have waited on without it. */
  othersMs: number;
  /** How long the others waited for it: computeMs − othersMs. */
  heldMs: number;
  /** Its fraction of the global batch (from count when the record has no share). */
  share: number | null;
  /** Its idle time between steps, ms. */
  waitMs: number;
}

const gradientMs = (w: WorkerStepStats) => w.gradientMs ?? w.computeMs;

/** Null with fewer than two ranks (nobody to hold back) or on a step whose answers are partial. */
export function stragglerOf(step: Pick<StepRecord, 'step' | 'samples' | 'workers' | 'recovered'>): Straggler | null {
  if (step.recovered || step.workers.length < 2) return null;
  const bySlowest = [...step.workers].sort((a, b) => gradientMs(b) - gradientMs(a) || a.rank - b.rank);
  const [slowest, next] = bySlowest;
  const computeMs = gradientMs(slowest);
  const othersMs = gradientMs(next);
  return {
    step: step.step,
    rank: slowest.rank,
    computeMs,
    othersMs,
    heldMs: computeMs - othersMs,
    share: slowest.share ?? (step.samples > 0 ? slowest.count / step.samples : null),
    waitMs: slowest.waitMs,
  };
}
