import { describe, expect, it } from 'vitest';
import { epochPermutation, globalBatchIndices, shardOfBatch, shardsOfCounts, stepsPerEpoch } from './sampler';

describe('epochPermutation', () => {
  it('is a permutation of 0..n-1', () => {
    for (const n of [0, 1, 2, 7, 1000]) {
      const perm = epochPermutation(42, 3, n);
      expect(perm.length).toBe(n);
      expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('is deterministic for (seed, epoch) and differs across epochs and seeds', () => {
    expect(epochPermutation(42, 0, 500)).toEqual(epochPermutation(42, 0, 500));
    expect(epochPermutation(42, 0, 500)).not.toEqual(epochPermutation(42, 1, 500));
    expect(epochPermutation(42, 0, 500)).not.toEqual(epochPermutation(43, 0, 500));
  });

  it('actually shuffles', () => {
    const perm = epochPermutation(1, 0, 1000);
    const fixed = perm.filter((v, i) => v === i).length;
    expect(fixed).toBeLessThan(10);
  });

  it('rejects bad arguments', () => {
    expect(() => epochPermutation(1, -1, 5)).toThrow(/epoch/);
    expect(() => epochPermutation(1, 0, 2.5)).toThrow(/n must be/);
  });
});

describe('stepsPerEpoch', () => {
  it('keeps the last partial batch', () => {
    expect(stepsPerEpoch(50000, 64)).toBe(782);
    expect(stepsPerEpoch(64, 64)).toBe(1);
    expect(stepsPerEpoch(65, 64)).toBe(2);
    expect(stepsPerEpoch(0, 64)).toBe(0);
    expect(() => stepsPerEpoch(10, 0)).toThrow(/globalBatch/);
  });
});

describe('globalBatchIndices', () => {
  it('cuts consecutive batches, the last one partial', () => {
    const perm = epochPermutation(5, 0, 10);
    expect(globalBatchIndices(perm, 0, 4)).toEqual(perm.slice(0, 4));
    expect(globalBatchIndices(perm, 2, 4)).toEqual(perm.slice(8, 10));
    expect(() => globalBatchIndices(perm, 3, 4)).toThrow(/past the end/);
  });
});

describe('shardOfBatch', () => {
  it('splits as evenly as possible', () => {
    const sizes = (b: number, w: number) => Array.from({ length: w }, (_, r) => shardOfBatch(b, w, r)).map(({ start, end }) => end - start);
    expect(sizes(64, 3)).toEqual([22, 21, 21]);
    expect(sizes(64, 4)).toEqual([16, 16, 16, 16]);
    expect(sizes(2, 4)).toEqual([1, 1, 0, 0]);
    expect(sizes(0, 2)).toEqual([0, 0]);
  });

  it('rejects a rank outside the world', () => {
    expect(() => shardOfBatch(10, 2, 2)).toThrow(/rank/);
  });
});

describe('shardsOfCounts', () => {
  it('cuts contiguous parts in rank order that cover the batch', () => {
    expect(shardsOfCounts(64, [40, 0, 24])).toEqual([
      { start: 0, end: 40 },
      { start: 40, end: 40 },
      { start: 40, end: 64 },
    ]);
  });

  it('matches shardOfBatch for equal counts', () => {
    const even = Array.from({ length: 3 }, (_, r) => shardOfBatch(64, 3, r));
    expect(shardsOfCounts(64, [22, 21, 21])).toEqual(even);
  });

  it('refuses counts that do not add up to the batch', () => {
    expect(() => shardsOfCounts(64, [32, 31])).toThrow(/add up to 63/);
    expect(() => shardsOfCounts(64, [65, -1])).toThrow(/counts\[0\]/);
  });
});

describe('an epoch across steps and ranks', () => {
  const cases: [n: number, batch: number, world: number][] = [
    [100, 10, 1],
    [100, 10, 4],
    [103, 16, 3],
    [50, 64, 2],
    [37, 3, 5], // batch < world
    [1, 4, 3],
    [1000, 64, 7],
  ];
  for (const [n, batch, world] of cases) {
    it(`covers every sample exactly once (n=${n}, batch=${batch}, world=${world})`, () => {
      const perm = epochPermutation(9, 2, n);
      const seen = new Uint32Array(n);
      for (let step = 0; step < stepsPerEpoch(n, batch); step++) {
        const indices = globalBatchIndices(perm, step, batch);
        const shards = Array.from({ length: world }, (_, rank) => shardOfBatch(indices.length, world, rank));
        const sizes = shards.map(({ start, end }) => end - start);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        for (const { start, end } of shards) for (const i of indices.subarray(start, end)) seen[i]++;
      }
      expect(seen.every((c) => c === 1)).toBe(true);
    });
  }
});
