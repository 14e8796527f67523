import type { MetricRecord } from '@gradsync/metrics';

/** The x axes the compare view offers. */
export type XAxis = 'step' | 'epoch' | 'wall';

export const X_LABELS: Record<XAxis, string> = { step: 'step', epoch: 'epoch', wall: 'wall time (s)' };

/** One point in all three x coordinates, so switching the axis needs no recomputation. */
export interface CurvePoint {
  step: number;
  /** Epochs done at this point: 0.5 halfway through the first epoch, 1 at its end. */
  epoch: number;
  /** Seconds of running since the run began, pauses between resumed sessions left out. */
  wall: number;
  loss: number;
  accuracy: number;
}

export interface RunCurves {
  name: string;
  steps: CurvePoint[];
  validation: CurvePoint[];
}

/**
 * A run's training and validation curves from its records. A resumed run repeats steps from its
 * checkpoint on: the repeated points replace the earlier ones, as in the live view.
 */
export function runCurves(name: string, records: readonly MetricRecord[]): RunCurves {
  const steps: CurvePoint[] = [];
  const validation = new Map<number, CurvePoint>();
  let stepsPerEpoch = 0;
  let sessionStart: number | null = null;
  let lastT: number | null = null;
  let earlierSessions = 0;
  for (const r of records) {
    if (r.kind === 'run') {
      // A new session (resume): count the time the previous one ran, not the pause.
      if (sessionStart !== null && lastT !== null) earlierSessions += lastT - sessionStart;
      sessionStart = r.t;
      stepsPerEpoch = r.stepsPerEpoch;
    }
    sessionStart ??= r.t;
    lastT = r.t;
    const wall = (earlierSessions + r.t - sessionStart) / 1000;
    if (r.kind === 'step') {
      while (steps.length && steps[steps.length - 1].step >= r.step) steps.pop();
      const epoch = stepsPerEpoch > 0 ? (r.step + 1) / stepsPerEpoch : r.epoch;
      steps.push({ step: r.step, epoch, wall, loss: r.loss, accuracy: r.accuracy });
    } else if (r.kind === 'epoch' && r.validation) {
      validation.set(r.epoch, { step: r.step, epoch: r.epoch + 1, wall, loss: r.validation.loss, accuracy: r.validation.accuracy });
    }
  }
  return { name, steps, validation: [...validation.values()].sort((a, b) => a.step - b.step) };
}
