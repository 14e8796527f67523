import { describe, expect, it } from 'vitest';
import { EmaSmoother, SmoothedSeries, smooth } from './smoothing';

describe('smooth (TensorBoard debiased EMA)', () => {
  it('is the identity at weight 0', () => {
    expect(smooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it('starts at the first value instead of being pulled towards 0 (debiased)', () => {
    const s = smooth([10, 10, 10, 10], 0.9);
    for (const v of s) expect(v).toBeCloseTo(10, 10);
  });

  it('matches the closed form for two points', () => {
    const w = 0.6;
    const [a, b] = smooth([1, 3], w);
    expect(a).toBeCloseTo(1, 12);
    // last = (1-w)*1*w + (1-w)*3, debias = 1 - w^2
    expect(b).toBeCloseTo(((1 - w) * w * 1 + (1 - w) * 3) / (1 - w * w), 12);
  });

  it('passes non-finite values through without disturbing the average', () => {
    const s = smooth([2, Number.NaN, 2], 0.5);
    expect(s[0]).toBeCloseTo(2);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s[2]).toBeCloseTo(2);
  });

  it('follows a step change gradually', () => {
    const s = smooth([0, 0, 0, 1, 1, 1], 0.5);
    expect(s[3]).toBeGreaterThan(0);
    expect(s[3]).toBeLessThan(1);
    expect(s[5]).toBeGreaterThan(s[4]);
  });

  it('EmaSmoother gives the same values one at a time', () => {
    const e = new EmaSmoother(0.8);
    const xs = [5, 4, 6, 2];
    expect(xs.map((x) => e.push(x))).toEqual(smooth(xs, 0.8));
  });
});

describe('SmoothedSeries', () => {
  it('extends incrementally and equals smoothing the whole series', () => {
    const src: number[] = [];
    const s = new SmoothedSeries(0.7);
    for (let i = 0; i < 50; i++) {
      src.push(Math.sin(i) + i * 0.1);
      s.sync(src);
    }
    expect(s.values).toEqual(smooth(src, 0.7));
  });

  it('recomputes on a new weight and when the source shrinks', () => {
    const src = [1, 2, 3, 4];
    const s = new SmoothedSeries(0.5);
    s.sync(src);
    expect(s.sync(src, 0.9)).toEqual(smooth(src, 0.9));
    src.length = 2;
    expect(s.sync(src, 0.9)).toEqual(smooth(src, 0.9));
  });

  it('recomputes when the revision changes even if the length grew back', () => {
    const src = [1, 2, 3, 4];
    const s = new SmoothedSeries(0.5);
    s.sync(src, 0.5, 0);
    src.splice(1, 3, 9, 9, 9, 9);
    expect(s.sync(src, 0.5, 1)).toEqual(smooth(src, 0.5));
  });
});

describe('SmoothedSeries with gaps', () => {
  it('treats null as a gap that leaves the average alone', () => {
    const s = new SmoothedSeries(0.5);
    const out = s.sync([2, null, 2], 0.5);
    expect(out[0]).toBeCloseTo(2);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(out[2]).toBeCloseTo(2);
  });
});
