import { describe, expect, it } from 'vitest';
import { adamStep, createAdamState, PYTORCH_ADAM } from './adam';

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

  it("PyTorch's placement matches torch.optim.Adam's formula in float64, and differs from Keras' where √v̂ is near epsilon", () => {
    const n = 4;
    const torch = new Float32Array(n).fill(0.5);
    const keras = new Float32Array(n).fill(0.5);
    const ts = createAdamState(n);
    const ks = createAdamState(n);
    const ref = Array.from({ length: n }, () => ({ w: 0.5, m: 0, v: 0 }));
    // Tiny gradients on the last two: there epsilon matters.
    const scale = [1, 0.1, 1e-7, 1e-8];
    for (let t = 1; t <= 30; t++) {
      const g = new Float32Array(n).map((_, i) => Math.cos(t * (i + 2)) * scale[i]!);
      adamStep(torch, g, ts, 0.001, PYTORCH_ADAM);
      adamStep(keras, g, ks, 0.001);
      ref.forEach((r, i) => {
        r.m = 0.9 * r.m + 0.1 * g[i]!;
        r.v = 0.999 * r.v + 0.001 * g[i]! * g[i]!;
        const bc1 = 1 - 0.9 ** t;
        const bc2 = 1 - 0.999 ** t;
        r.w -= ((0.001 / bc1) * r.m) / (Math.sqrt(r.v) / Math.sqrt(bc2) + 1e-8);
      });
    }
    ref.forEach((r, i) => expect(torch[i]).toBeCloseTo(r.w, 6));
    expect(Math.abs(torch[3]! - keras[3]!)).toBeGreaterThan(1e-4);
  });

  it('rejects mismatched lengths', () => {
    expect(() => adamStep(new Float32Array(2), new Float32Array(3), createAdamState(2), 0.1)).toThrow(/gradient 3/);
  });
});
