import { describe, expect, it } from 'vitest';
import { confusionView, topConfusions } from './confusion';

describe('confusionView', () => {
  // true class 0: 8 right, 2 as class 1; class 1: 1 as 0, 9 right, ... class 2: none.
  const m = [8, 2, 0, 1, 9, 0, 0, 0, 0];

  it('sums rows and the total, and gives per-class accuracy', () => {
    const v = confusionView(m);
    expect(v.size).toBe(3);
    expect(v.total).toBe(20);
    expect(v.rowSums).toEqual([10, 10, 0]);
    expect(v.perClassAccuracy).toEqual([0.8, 0.9, null]);
    expect(v.accuracy).toBeCloseTo(17 / 20);
  });

  it('normalizes each row to sum 1 (empty rows stay 0)', () => {
    const v = confusionView(m);
    expect(v.normalized.slice(0, 3)).toEqual([0.8, 0.2, 0]);
    expect(v.normalized.slice(3, 6)).toEqual([0.1, 0.9, 0]);
    expect(v.normalized.slice(6, 9)).toEqual([0, 0, 0]);
  });

  it('handles an empty matrix and rejects a non-square one', () => {
    expect(confusionView([0, 0, 0, 0]).accuracy).toBeNull();
    expect(() => confusionView([1, 2, 3])).toThrow(/square/);
  });

  it('lists the biggest confusions', () => {
    expect(topConfusions(confusionView(m), 5)).toEqual([
      { actual: 0, predicted: 1, count: 2, rate: 0.2 },
      { actual: 1, predicted: 0, count: 1, rate: 0.1 },
    ]);
  });
});
