/** Epoch progress and time left, from the run's shape and the recent step rate. */
export interface ProgressInput {
  stepsPerEpoch: number;
  /** Total epochs (RunRecord.config.epochs); null when the config does not say. */
  epochs: number | null;
  /** 0-based index of the epoch in progress. */
  epochIndex: number;
  /** Steps already done in that epoch. */
  stepsIntoEpoch: number;
  /** Steps per second lately; null when unknown. */
  stepsPerSec: number | null;
  /** Epochs whose end-of-epoch record arrived: evaluation may run after the last step of an epoch. */
  epochsFinished: number;
}

export interface Progress {
  epochIndex: number;
  epochs: number | null;
  stepsIntoEpoch: number;
  stepsPerEpoch: number;
  /** 0..1 */
  epochFraction: number;
  /** 0..1; null without a total epoch count. */
  runFraction: number | null;
  etaEpochSec: number | null;
  etaRunSec: number | null;
}

export function computeProgress(p: ProgressInput): Progress {
  const spe = Math.max(1, p.stepsPerEpoch);
  const into = Math.min(Math.max(0, p.stepsIntoEpoch), spe);
  const done = p.epochIndex * spe + into;
  const total = p.epochs === null ? null : p.epochs * spe;
  const rate = p.stepsPerSec !== null && p.stepsPerSec > 0 && Number.isFinite(p.stepsPerSec) ? p.stepsPerSec : null;
  const finishedAll = p.epochs !== null && p.epochsFinished >= p.epochs;
  return {
    epochIndex: p.epochIndex,
    epochs: p.epochs,
    stepsIntoEpoch: into,
    stepsPerEpoch: spe,
    epochFraction: into / spe,
    runFraction: total === null ? null : finishedAll ? 1 : Math.min(1, done / total),
    etaEpochSec: rate === null ? null : (spe - into) / rate,
    etaRunSec: rate === null || total === null ? null : finishedAll ? 0 : Math.max(0, total - done) / rate,
  };
}

/**
 * Steps per second over the last `window` step timestamps (ms, ascending): (n − 1) / elapsed.
 * Null with fewer than two steps or no elapsed time.
 */
export function recentStepRate(times: readonly number[], window = 30): number | null {
  const n = Math.min(window, times.length);
  if (n < 2) return null;
  const elapsedMs = times[times.length - 1] - times[times.length - n];
  return elapsedMs > 0 ? ((n - 1) * 1000) / elapsedMs : null;
}
