import { describe, expect, it } from 'vitest';
import { segmentBounds, segmentCount, segmentElementsForBytes, segmentRange } from './segments';

describe('segments', () => {
  it('cut a chunk into full segments and one shorter last segment', () => {
    expect(segmentBounds({ start: 10, end: 21 }, 4)).toEqual([
      { start: 10, end: 14 },
      { start: 14, end: 18 },
      { start: 18, end: 21 },
    ]);
    expect(segmentCount(11, 4)).toBe(3);
    expect(segmentCount(12, 4)).toBe(3);
  });

  it('give an empty chunk no segments', () => {
    expect(segmentCount(0, 4)).toBe(0);
    expect(segmentBounds({ start: 5, end: 5 }, 4)).toEqual([]);
  });

  it('refuse segments outside the chunk and bad sizes', () => {
    expect(() => segmentRange({ start: 0, end: 8 }, 2, 4)).toThrow(/outside/);
    expect(() => segmentCount(8, 0)).toThrow(/segment size/);
    expect(() => segmentElementsForBytes(2)).toThrow(/4 bytes/);
    expect(segmentElementsForBytes(1 << 18)).toBe(1 << 16);
  });
});
