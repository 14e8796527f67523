import { describe, expect, it } from 'vitest';
import { adamStep, createAdamState } from './adam';
import { decayedRanges, optimizerStep, SEED_OPTIMIZER } from './optimizer';

// Two "layers": a 2×2 kernel at 0..4 and a bias at 4..6.
const SLOTS = [
  { shape: [2, 2], offset: 0, size: 4 },
  { shape: [2], offset: 4, size: 2 },
];

describe('decayedRanges', () => {
  it('covers kernels only, not biases or BatchNorm vectors', () => {
    expect(decayedRanges(SLOTS)).toEqual([[0, 4]]);
    expect(decayedRanges([{ shape: [3, 3, 3, 8], offset: 10, size: 216 }])).toEqual([[10, 226]]);
  });
});

describe('optimizerStep', () => {
  const decayed = decayedRanges(SLOTS);

  it("adam without weight decay is adam.ts's Keras Adam exactly (the seed recipe)", () => {
    const a = new Float32Array([1, -2, 3, 0.5, 0.1, -0.1]);
    const b = a.slice();
    const sa = createAdamState(6);
    const sb = createAdamState(6);
    for (let t = 0; t < 5; t++) {
      const g = new Float32Array(6).map((_, i) => Math.cos(t + i));
      optimizerStep(a, g.slice(), sa, 1e-3, SEED_OPTIMIZER, decayed);
      adamStep(b, g.slice(), sb, 1e-3);
    }
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('sgd-nesterov with weight decay: two steps by hand, decay on the kernel only', () => {
    const p = new Float32Array([1, 1, 1, 1, 1, 1]);
    const s = createAdamState(6);
    const config = { kind: 'sgd-nesterov', weightDecay: 0.1, momentum: 0.9 } as const;
    const lr = 0.5;
    optimizerStep(p, new Float32Array(6).fill(1), s, lr, config, decayed);
    // Kernel: g = 1 + 0.1·1 = 1.1; buf = 1.1; step = 1.1 + 0.9·1.1 = 2.09; w = 1 − 0.5·2.09 = −0.045.
    // Bias:   g = 1;             buf = 1;   step = 1.9;              w = 1 − 0.95 = 0.05.
    expect(p[0]).toBeCloseTo(-0.045, 6);
    expect(p[5]).toBeCloseTo(0.05, 6);
    optimizerStep(p, new Float32Array(6).fill(1), s, lr, config, decayed);
    // Kernel: g = 1 + 0.1·(−0.045) = 0.9955; buf = 0.9·1.1 + 0.9955 = 1.9855; step = 0.9955 + 0.9·1.9855 = 2.78245.
    expect(p[0]).toBeCloseTo(-0.045 - 0.5 * 2.78245, 5);
    // Bias: buf = 0.9 + 1 = 1.9; step = 1 + 1.71 = 2.71.
    expect(p[5]).toBeCloseTo(0.05 - 0.5 * 2.71, 5);
    expect(s.t).toBe(2);
    expect(Array.from(s.v)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('adamw shrinks the kernel by lr·wd before the Adam step; a zero gradient leaves only the decay', () => {
    const p = new Float32Array([2, 2, 2, 2, 2, 2]);
    optimizerStep(p, new Float32Array(6), createAdamState(6), 0.01, { kind: 'adamw', weightDecay: 0.5, momentum: 0.9 }, decayed);
    expect(p[0]).toBeCloseTo(2 * (1 - 0.01 * 0.5), 6);
    expect(p[4]).toBe(2);
  });

  it('adam with weight decay adds wd·w to the kernel gradient (L2), unlike adamw', () => {
    const p = new Float32Array([2, 2, 2, 2, 2, 2]);
    optimizerStep(p, new Float32Array(6), createAdamState(6), 0.01, { kind: 'adam', weightDecay: 0.5, momentum: 0.9 }, decayed);
    // The gradient seen is 0.5·2 = 1 on the kernel: Adam's first step moves it by about lr.
    expect(p[0]).toBeCloseTo(1.99, 5);
    expect(p[4]).toBe(2);
  });
});
