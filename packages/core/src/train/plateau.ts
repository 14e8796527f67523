/**
 * ReduceLROnPlateau with Keras' semantics (mode 'min'), as a pure state transition so the
 * coordinator can decide it, checkpoint it and resume it.
 */
export interface PlateauConfig {
  factor: number;
  patience: number;
  minDelta: number;
  cooldown: number;
  minLr: number;
}

export const SEED_PLATEAU: PlateauConfig = { factor: 0.2, patience: 3, minDelta: 1e-4, cooldown: 0, minLr: 0 };

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
  if (value < best - config.minDelta) {
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
