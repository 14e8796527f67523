import { describe, expect, it } from 'vitest';
import { addInto, rankOrderSum, weightedMeanFromSum } from './sum';

describe('sums', () => {
  it('rankOrderSum adds in rank order into a new array', () => {
    const a = new Float32Array([1, 2]);
    const s = rankOrderSum([a, new Float32Array([3, 4]), new Float32Array([5, 6])]);
    expect(Array.from(s)).toEqual([9, 12]);
    expect(Array.from(a)).toEqual([1, 2]);
    // Order matters in float32: 1e8 + 1 − 1e8 is 0, 1e8 − 1e8 + 1 is 1.
    const big = new Float32Array([1e8]);
    expect(rankOrderSum([big, new Float32Array([1]), new Float32Array([-1e8])])[0]).toBe(0);
  });

  it('addInto refuses mismatched lengths', () => {
    expect(() => addInto(new Float32Array(2), new Float32Array(3))).toThrow(/3 elements into 2/);
  });

  it('weightedMeanFromSum turns a sum of gradient × samples into the weighted mean, in place', () => {
    // rank 0: gradient 1.0 over 3 samples; rank 1: gradient 3.0 over 1 sample → (3 + 3) / 4 = 1.5
    const sum = rankOrderSum([new Float32Array([1 * 3]), new Float32Array([3 * 1])]);
    expect(weightedMeanFromSum(sum, 4)).toBe(sum);
    expect(sum[0]).toBe(1.5);
    expect(() => weightedMeanFromSum(sum, 0)).toThrow(/positive/);
  });
});
