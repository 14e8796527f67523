import { describe, expect, it } from 'vitest';
import { MAX_BUCKETS, planBuckets } from './bucket-plan';

/** Every element covered exactly once, buckets in backward order, each bucket whole slots that fill it exactly. */
function expectTiling(sizes: number[], tail: number, buckets: ReturnType<typeof planBuckets>): void {
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const total = sizes.reduce((a, b) => a + b, 0) + tail;
  expect(buckets[0].end).toBe(total);
  expect(buckets.at(-1)!.start).toBe(0);
  for (let b = 1; b < buckets.length; b++) expect(buckets[b].end).toBe(buckets[b - 1].start);
  expect(buckets.flatMap((b) => b.slots)).toEqual(sizes.map((_, i) => sizes.length - 1 - i));
  buckets.forEach((b, k) => {
    const covered = b.slots.reduce((a, i) => a + sizes[i], 0) + (k === 0 ? tail : 0);
    expect(covered).toBe(b.end - b.start);
    for (const i of b.slots) expect(offsets[i]).toBeGreaterThanOrEqual(b.start);
  });
}

describe('planBuckets', () => {
  it('cuts whole slots from the end, the first bucket taking the state tail', () => {
    const sizes = [864, 32, 9216, 32, 18432, 64, 36864, 64, 65536, 10];
    const buckets = planBuckets(sizes, 256, 20_000);
    expectTiling(sizes, 256, buckets);
    expect(buckets.map((b) => b.slots)).toEqual([
      [9, 8],
      [7, 6],
      [5, 4, 3, 2, 1, 0],
    ]);
    expect(buckets.slice(0, -1).every((b) => b.end - b.start >= 20_000)).toBe(true);
  });

  it('merges a short remainder into the last bucket instead of sending it alone', () => {
    const buckets = planBuckets([10, 100, 100], 0, 100);
    expect(buckets).toEqual([
      { start: 110, end: 210, slots: [2] },
      { start: 0, end: 110, slots: [1, 0] },
    ]);
  });

  it('gives one bucket when the buffer is smaller than a bucket', () => {
    expect(planBuckets([5, 7], 3, 1 << 20)).toEqual([{ start: 0, end: 15, slots: [1, 0] }]);
  });

  it('never makes more than MAX_BUCKETS buckets', () => {
    const sizes = Array.from({ length: 1000 }, (_, i) => 1 + (i % 7));
    const buckets = planBuckets(sizes, 11, 1);
    expect(buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expectTiling(sizes, 11, buckets);
  });

  it('is the same plan for the same layout (every rank derives it alone)', () => {
    const sizes = [3, 1, 4, 1, 5, 9, 2, 6];
    expect(planBuckets(sizes, 5, 6)).toEqual(planBuckets([...sizes], 5, 6));
  });

  it('refuses a bucket size that is not a positive whole number, and negative slots', () => {
    expect(() => planBuckets([1], 0, 0)).toThrow(/bucket size must be a positive whole number/);
    expect(() => planBuckets([1], 0, 1.5)).toThrow(/bucket size/);
    expect(() => planBuckets([1, -2], 0, 4)).toThrow(/slot sizes must be whole numbers/);
  });
});
