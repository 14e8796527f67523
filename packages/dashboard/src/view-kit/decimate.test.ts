import { describe, expect, it } from 'vitest';
import { minMaxIndices, pick } from './decimate';

describe('minMaxIndices', () => {
  it('keeps every point of a short series', () => {
    expect(minMaxIndices([5, 4, 3], 10)).toEqual([0, 1, 2]);
    expect(minMaxIndices([], 10)).toEqual([]);
  });

  it('caps a long series and keeps its spikes, first and last points', () => {
    const n = 100_000;
    const ys = Array.from({ length: n }, (_, i) => Math.sin(i / 100));
    ys[12_345] = 50;
    ys[67_890] = -50;
    const idx = minMaxIndices(ys, 1000);
    expect(idx.length).toBeLessThanOrEqual(1002);
    expect(idx.length).toBeGreaterThan(900);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
    expect(idx).toContain(12_345);
    expect(idx).toContain(67_890);
    for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
  });

  it('keeps the range of every bucket', () => {
    const ys = Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : -1) * i);
    const idx = minMaxIndices(ys, 20);
    const kept = pick(ys, idx);
    expect(Math.max(...kept)).toBe(Math.max(...ys));
    expect(Math.min(...kept)).toBe(Math.min(...ys));
  });

  it('skips nulls and NaN when choosing extremes, but marks an all-empty bucket', () => {
    const ys: (number | null)[] = Array.from({ length: 40 }, (_, i) => (i < 20 ? null : i));
    const idx = minMaxIndices(ys, 4);
    expect(idx).toContain(0);
    expect(idx).toContain(20);
    expect(idx).toContain(39);
    expect(minMaxIndices([Number.NaN, Number.NaN, 1, 2, Number.NaN, 3], 2)).toEqual([0, 2, 5]);
  });
});

describe('pick', () => {
  it('selects by index', () => {
    expect(pick(['a', 'b', 'c', 'd'], [0, 3])).toEqual(['a', 'd']);
    expect(pick(new Float64Array([1, 2, 3]), [1])).toEqual([2]);
  });
});
