import { describe, expect, it } from 'vitest';
import { createPlateauState, plateauStep, SEED_PLATEAU } from './plateau';

describe('plateauStep (ReduceLROnPlateau factor 0.2, patience 3)', () => {
  it('keeps the rate while the loss improves', () => {
    let s = createPlateauState(1e-3);
    for (const loss of [2, 1.5, 1.2, 1.1]) s = plateauStep(s, loss);
    expect(s.lr).toBe(1e-3);
    expect(s.best).toBe(1.1);
  });

  it('cuts by 0.2 after 3 epochs without an improvement larger than min_delta', () => {
    let s = createPlateauState(1e-3);
    s = plateauStep(s, 1.0);
    s = plateauStep(s, 1.0);
    s = plateauStep(s, 0.99995); // within min_delta: not an improvement
    expect(s.lr).toBe(1e-3);
    s = plateauStep(s, 1.2);
    expect(s.lr).toBeCloseTo(2e-4, 12);
    expect(s.wait).toBe(0);
    for (let i = 0; i < 3; i++) s = plateauStep(s, 1.3);
    expect(s.lr).toBeCloseTo(4e-5, 12);
  });

  it('honours min_lr and cooldown', () => {
    const cfg = { ...SEED_PLATEAU, patience: 1, cooldown: 2, minLr: 5e-4 };
    let s = createPlateauState(1e-3);
    s = plateauStep(s, 1, cfg);
    s = plateauStep(s, 1, cfg);
    expect(s.lr).toBe(5e-4);
    expect(s.cooldownLeft).toBe(2);
    s = plateauStep(s, 1, cfg);
    s = plateauStep(s, 1, cfg);
    expect(s.lr).toBe(5e-4);
  });

  it("relative threshold (PyTorch's threshold_mode='rel'): an improvement must beat best × (1 − min_delta)", () => {
    const rel = { ...SEED_PLATEAU, threshold: 'relative' as const, patience: 1 };
    // best 2.0: Keras' bar is 1.9999, PyTorch's 1.9998; 1.99985 clears only Keras'.
    let keras = plateauStep(createPlateauState(1e-3), 2.0);
    let torch = plateauStep(createPlateauState(1e-3), 2.0, rel);
    keras = plateauStep(keras, 1.99985, { ...SEED_PLATEAU, patience: 1 });
    torch = plateauStep(torch, 1.99985, rel);
    expect(keras).toMatchObject({ lr: 1e-3, best: 1.99985 });
    expect(torch.best).toBe(2.0);
    expect(torch.lr).toBeCloseTo(2e-4, 12);
    torch = plateauStep(torch, 1.9997, rel);
    expect(torch.best).toBe(1.9997);
  });
});
