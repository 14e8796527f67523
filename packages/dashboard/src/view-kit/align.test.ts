import { describe, expect, it } from 'vitest';
import { mergeOnX } from './align';

describe('mergeOnX', () => {
  it('shares rows with equal x and fills the rest with null', () => {
    const merged = mergeOnX({ x: [0, 1, 2, 3], columns: [[10, 11, 12, 13]] }, { x: [2, 4], columns: [[0.5, 0.4]] });
    expect(merged.x).toEqual([0, 1, 2, 3, 4]);
    expect(merged.columns).toEqual([
      [10, 11, 12, 13, null],
      [null, null, 0.5, null, 0.4],
    ]);
  });

  it('handles empty tables on either side', () => {
    expect(mergeOnX({ x: [], columns: [[]] }, { x: [1], columns: [[2]] })).toEqual({ x: [1], columns: [[null], [2]] });
    expect(mergeOnX({ x: [1], columns: [[2], [3]] }, { x: [], columns: [[]] })).toEqual({ x: [1], columns: [[2], [3], [null]] });
  });

  it('puts a point that falls between two rows on its own row', () => {
    const merged = mergeOnX({ x: [0, 10], columns: [[1, 2]] }, { x: [5], columns: [[9]] });
    expect(merged.x).toEqual([0, 5, 10]);
    expect(merged.columns[1]).toEqual([null, 9, null]);
  });
});
