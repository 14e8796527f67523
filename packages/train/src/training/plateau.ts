/**
 * ReduceLROnPlateau (mode 'min') with Keras' or PyTorch's test of an improvement, as a pure state
 * transition so the coordinator can decide it, checkpoint it and resume it.
 */
export interface PlateauConfig {
  factor: number;
  patience: number;
  /** The margin an epoch must beat the best by: a loss (absolute) or a fraction of the best (relative). */
  minDelta: number;
  /**
   * absolute: Keras' `loss < best − min_delta`; relative: PyTorch's default
   * `threshold_mode='rel'`, `loss < best · (1 − threshold)`.
   */
  threshold: 'absolute' | 'relative';
  cooldown: number;
  minLr: number;
}

export const SEED_PLATEAU: PlateauConfig = { factor: 0.2, patience: 3, minDelta: 1e-4, threshold: 'absolute', cooldown: 0, minLr: 0 };

export interface PlateauState {
  lr: number;
  best: number;
  wait: number;
  cooldownLeft: number;
}

export function createPlateauState(lr: number): PlateauState {
  return { lr, best: Infinity, wait: 0, cooldownLeft: 0 };
}

/** Feeds one epoch's monitored value (validation loss); returns the next state. */
export function plateauStep(state: PlateauState, value: number, config: PlateauConfig = SEED_PLATEAU): PlateauState {
  let { lr, best, wait, cooldownLeft } = state;
  if (cooldownLeft > 0) cooldownLeft -= 1;
  const bar = config.threshold === 'relative' ? best * (1 - config.minDelta) : best - config.minDelta;
  if (value < bar) {
    best = value;
    wait = 0;
  } else if (cooldownLeft === 0) {
    wait += 1;
    if (wait >= config.patience && lr > config.minLr) {
      lr = Math.max(lr * config.factor, config.minLr);
      cooldownLeft = config.cooldown;
      wait = 0;
    }
  }
  return { lr, best, wait, cooldownLeft };
}
