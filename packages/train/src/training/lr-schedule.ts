/**
 * The learning rate of each step. 'plateau' is the tutorial's: the rate changes only at epoch
 * ends, from validation loss (plateau.ts). 'one-cycle' and 'cosine' are functions of the step
 * alone, so the coordinator needs no state for them and a resumed run continues the same curve.
 */
import { type PlateauConfig, type PlateauState, plateauStep } from './plateau';

export const SCHEDULE_KINDS = ['plateau', 'one-cycle', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface ScheduleConfig {
  kind: ScheduleKind;
  /**
   * one-cycle and cosine: the first fraction of all steps rises linearly from 0 to the peak
   * (the run's lr); ignored by plateau.
   */
  warmupFraction: number;
}

export const SEED_SCHEDULE: ScheduleConfig = { kind: 'plateau', warmupFraction: 0 };

/**
 * The rate at step `step` (0-based) of `totalSteps`, for the step-based schedules: a linear
 * warm-up to `peak` over the first round(warmupFraction · totalSteps) steps, then
 * - one-cycle: a straight line down to 0 at `totalSteps` (airbench's and Page's ResNet-9 triangle);
 * - cosine: half a cosine down to 0 at `totalSteps`.
 * Step s is given the value at s + 1 while warming up, so the first step does not waste itself on a rate of 0.
 */
export function scheduledLr(config: ScheduleConfig, peak: number, step: number, totalSteps: number): number {
  if (config.kind === 'plateau') throw new Error('scheduledLr: the plateau schedule follows validation loss, not the step');
  const warmup = Math.round(config.warmupFraction * totalSteps);
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const decaySteps = totalSteps - warmup;
  const progress = decaySteps > 0 ? Math.min(1, (step - warmup) / decaySteps) : 1;
  return config.kind === 'one-cycle' ? peak * (1 - progress) : peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The rate the coordinator sends with step `step`: from the plateau state, or from the step-based schedule. */
export function learningRateAt(config: { schedule: ScheduleConfig; lr: number }, step: number, totalSteps: number, plateau: Pick<PlateauState, 'lr'>): number {
  return config.schedule.kind === 'plateau' ? plateau.lr : scheduledLr(config.schedule, config.lr, step, totalSteps);
}

/**
 * The plateau state after an epoch whose validation loss was `validationLoss` (null: no
 * validation split). Only the plateau schedule moves it; the step-based ones leave it as it is.
 */
export function plateauAfterEpoch(
  config: { schedule: ScheduleConfig; plateau: PlateauConfig },
  state: PlateauState,
  validationLoss: number | null,
): PlateauState {
  if (config.schedule.kind !== 'plateau' || validationLoss === null) return state;
  return plateauStep(state, validationLoss, config.plateau);
}
