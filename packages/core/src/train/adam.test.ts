import { describe, expect, it } from 'vitest';
import { adamStep, createAdamState } from './adam';

describe('adamStep', () => {
  it('takes a first step of about lr against the gradient sign (bias-corrected)', () => {
    const p = new Float32Array([1, 1, 1]);
    const s = createAdamState(3);
    adamStep(p, new Float32Array([2, -0.5, 0]), s, 0.01);
    expect(p[0]).toBeCloseTo(0.99, 5);
    expect(p[1]).toBeCloseTo(1.01, 5);
    expect(p[2]).toBe(1);
    expect(s.t).toBe(1);
  });

  it('matches a float64 reference over many steps', () => {
    const n = 5;
    const p = new Float32Array(n).fill(0.5);
    const s = createAdamState(n);
    const ref = Array.from({ length: n }, () => ({ w: 0.5, m: 0, v: 0 }));
    for (let t = 1; t <= 50; t++) {
      const g = new Float32Array(n).map((_, i) => Math.sin(t * (i + 1)));
      adamStep(p, g, s, 0.003);
      ref.forEach((r, i) => {
        r.m = 0.9 * r.m + 0.1 * g[i];
        r.v = 0.999 * r.v + 0.001 * g[i] * g[i];
        const mHat = r.m / (1 - 0.9 ** t);
        const vHat = r.v / (1 - 0.999 ** t);
        // Keras puts epsilon on the bias-corrected step: same up to a tiny epsilon term.
        r.w -= (0.003 * mHat) / (Math.sqrt(vHat) + 1e-7 * Math.sqrt(1 - 0.999 ** t));
      });
    }
    ref.forEach((r, i) => expect(p[i]).toBeCloseTo(r.w, 5));
  });

  it('rejects mismatched lengths', () => {
    expect(() => adamStep(new Float32Array(2), new Float32Array(3), createAdamState(2), 0.1)).toThrow(/gradient 3/);
  });
});
