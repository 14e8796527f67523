import { shardOfBatch } from '@gradsync/data';
import { describe, expect, it } from 'vitest';
import { BatchShares, equalCounts, proportionalCounts, settledCounts, smoothRate } from './batch-shares';

const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);

describe('equalCounts', () => {
  it('is shardOfBatch’s split', () => {
    for (const [total, n] of [
      [64, 3],
      [64, 4],
      [2, 4],
      [0, 2],
    ]) {
      expect(equalCounts(total, n)).toEqual(Array.from({ length: n }, (_, r) => shardOfBatch(total, n, r)).map((s) => s.end - s.start));
    }
  });
});

describe('proportionalCounts', () => {
  it('follows the weights and adds up to the total', () => {
    expect(proportionalCounts(64, [3, 1])).toEqual([48, 16]);
    const counts = proportionalCounts(100, [1, 2, 3.5]);
    expect(sum(counts)).toBe(100);
    expect(counts).toEqual([15, 31, 54]);
  });

  it('rounds by largest remainder, ties to the lower rank, so equal weights give the equal split', () => {
    expect(proportionalCounts(64, [1, 1, 1])).toEqual([22, 21, 21]);
    expect(proportionalCounts(10, [1, 1, 1, 1])).toEqual(equalCounts(10, 4));
  });

  it('keeps every rank at the floor of an equal share, and at one sample at least', () => {
    // A 1000× slower rank still gets a tenth of an equal share (64 / 2 / 10 = 3.2 samples).
    const counts = proportionalCounts(64, [1000, 1]);
    expect(counts[1]).toBe(3);
    expect(sum(counts)).toBe(64);
    expect(proportionalCounts(4, [1, 0, 0, 0], 0)).toEqual([1, 1, 1, 1]);
    expect(sum(proportionalCounts(5, [1e6, 1, 1, 1], 0))).toBe(5);
  });

  it('falls back to the equal split on weights that mean nothing', () => {
    expect(proportionalCounts(64, [0, 0])).toEqual([32, 32]);
    expect(proportionalCounts(64, [Number.NaN, 1])).toEqual([32, 32]);
  });
});

describe('smoothRate', () => {
  it('takes the first rate, then moves part of the way to each new one', () => {
    expect(smoothRate(undefined, 32, 16)).toBe(2);
    expect(smoothRate(2, 32, 8, 0.5)).toBe(3);
  });

  it('ignores answers that measure nothing', () => {
    expect(smoothRate(2, 0, 10)).toBe(2);
    expect(smoothRate(undefined, 10, 0)).toBeUndefined();
  });
});

describe('settledCounts', () => {
  it('keeps the previous counts inside the dead band, takes the new ones past it', () => {
    expect(settledCounts([40, 24], [41, 23])).toEqual([40, 24]);
    expect(settledCounts([40, 24], [44, 20])).toEqual([44, 20]);
    expect(settledCounts(null, [41, 23])).toEqual([41, 23]);
    expect(settledCounts([40, 24, 0], [41, 23])).toEqual([41, 23]);
  });
});

describe('BatchShares', () => {
  it('equal: the equal split whatever was measured', () => {
    const shares = new BatchShares<string>('equal');
    shares.record('a', 32, 10);
    shares.record('b', 32, 100);
    expect(shares.countsFor(['a', 'b'], 64)).toEqual([32, 32]);
  });

  it('speed: equal before any measurement; a new member counts as the mean of the others', () => {
    const shares = new BatchShares<string>('speed');
    expect(shares.countsFor(['a', 'b'], 64)).toEqual([32, 32]);
    shares.record('a', 32, 10); // 3.2 samples/ms
    shares.record('b', 32, 30); // ~1.07
    expect(shares.countsFor(['a', 'b'], 64)).toEqual([48, 16]);
    expect(shares.countsFor(['a', 'b', 'c'], 64)).toEqual([32, 11, 21]);
  });

  it("one-off jobs (evaluation) follow the rates without touching the steps' dead band", () => {
    const shares = new BatchShares<string>('speed');
    shares.record('a', 30, 10);
    shares.record('b', 10, 10);
    expect(shares.countsFor(['a', 'b'], 64)).toEqual([48, 16]);
    expect(shares.oneOffCounts(['a', 'b'], 1000)).toEqual([750, 250]);
    shares.record('a', 31, 10); // inside the dead band: the steps keep 48/16
    expect(shares.countsFor(['a', 'b'], 64)).toEqual([48, 16]);
    expect(new BatchShares<string>('equal').oneOffCounts(['a', 'b', 'c'], 10)).toEqual([4, 3, 3]);
  });

  /**
   * Two workers whose compute takes a fixed part plus a part per sample, one 3× slower per sample,
   * with ±10% noise: the split settles where their compute times meet, and stays there.
   */
  it('speed: converges to equal compute times without oscillating', () => {
    const perSampleMs = [1, 3];
    const fixedMs = [5, 5];
    let seed = 7;
    const noise = () => 1 + 0.2 * ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5);
    const shares = new BatchShares<number>('speed');
    const history: (readonly number[])[] = [];
    for (let step = 0; step < 40; step++) {
      const counts = shares.countsFor([0, 1], 64);
      history.push(counts);
      counts.forEach((n, r) => shares.record(r, n, (fixedMs[r] + perSampleMs[r] * n) * noise()));
    }
    const settled = history.slice(20);
    // Where the times meet: 5 + n = 5 + 3 (64 - n), n = 48.
    for (const counts of settled) expect(Math.abs(counts[0] - 48)).toBeLessThanOrEqual(2);
    // No flicker: the counts change at most a few times once settled.
    const changes = settled.filter((c, i) => i > 0 && c !== settled[i - 1]).length;
    expect(changes).toBeLessThanOrEqual(3);
  });
});
