import { describe, expect, it } from 'vitest';
import { learningRateAt, plateauAfterEpoch, scheduledLr, SEED_SCHEDULE } from './lr-schedule';
import { createPlateauState, SEED_PLATEAU } from './plateau';

describe('scheduledLr', () => {
  const oneCycle = { kind: 'one-cycle', warmupFraction: 0.2 } as const;
  const cosine = { kind: 'cosine', warmupFraction: 0.2 } as const;

  it('one-cycle: up linearly over the first 20% of 10 steps, then straight down to 0', () => {
    const values = Array.from({ length: 10 }, (_, s) => scheduledLr(oneCycle, 0.4, s, 10));
    // Warm-up of round(0.2 · 10) = 2 steps: 0.2, 0.4; then 0.4 · (1 − (s − 2) / 8).
    const want = [0.2, 0.4, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05];
    values.forEach((v, s) => expect(v, `step ${s}`).toBeCloseTo(want[s], 12));
    expect(scheduledLr(oneCycle, 0.4, 10, 10)).toBe(0);
  });

  it('cosine: the same warm-up, then half a cosine: the peak, half the peak at mid-decay, near 0 at the end', () => {
    expect(scheduledLr(cosine, 1, 0, 10)).toBeCloseTo(0.5, 12);
    expect(scheduledLr(cosine, 1, 2, 10)).toBeCloseTo(1, 12);
    expect(scheduledLr(cosine, 1, 6, 10)).toBeCloseTo(0.5, 12); // (6 − 2) / 8 = half way
    expect(scheduledLr(cosine, 1, 9, 10)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * (7 / 8))), 12);
  });

  it('without warm-up the first step takes the peak', () => {
    expect(scheduledLr({ kind: 'one-cycle', warmupFraction: 0 }, 0.1, 0, 100)).toBe(0.1);
    expect(scheduledLr({ kind: 'cosine', warmupFraction: 0 }, 0.1, 0, 100)).toBe(0.1);
  });

  it('is not defined for plateau, whose rate follows validation loss', () => {
    expect(() => scheduledLr(SEED_SCHEDULE, 1e-3, 0, 10)).toThrow(/plateau/);
  });
});

describe('learningRateAt', () => {
  it("plateau: the plateau state's rate whatever the step; otherwise the schedule's", () => {
    expect(learningRateAt({ schedule: SEED_SCHEDULE, lr: 1e-3 }, 500, 1000, { lr: 2e-4 })).toBe(2e-4);
    expect(learningRateAt({ schedule: { kind: 'one-cycle', warmupFraction: 0.5 }, lr: 1 }, 0, 4, { lr: 2e-4 })).toBe(0.5);
  });
});

describe('plateauAfterEpoch', () => {
  it('steps ReduceLROnPlateau under the plateau schedule only', () => {
    const worse = (schedule: typeof SEED_SCHEDULE) => {
      let s = plateauAfterEpoch({ schedule, plateau: SEED_PLATEAU }, createPlateauState(1e-3), 1);
      for (let i = 0; i < 3; i++) s = plateauAfterEpoch({ schedule, plateau: SEED_PLATEAU }, s, 2);
      return s.lr;
    };
    expect(worse(SEED_SCHEDULE)).toBeCloseTo(2e-4, 12);
    expect(worse({ kind: 'one-cycle', warmupFraction: 0.2 })).toBe(1e-3);
    expect(plateauAfterEpoch({ schedule: SEED_SCHEDULE, plateau: SEED_PLATEAU }, createPlateauState(1e-3), null)).toEqual(createPlateauState(1e-3));
  });
});
