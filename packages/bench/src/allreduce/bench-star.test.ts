import { afterEach, describe, expect, it } from 'vitest';
import { rankOrderSum } from '@gradsync/collective';
import { randomInputs, sameBytes } from '@gradsync/testing';
import { starGroup } from './star-group';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

describe('the star path over real links (WorkerHub + StarRelay, StarClients on coordinator links)', () => {
  it('sums rank-ordered, bit-identical on every rank, in place', async () => {
    const group = await starGroup(3);
    cleanup.push(() => group.close());
    for (const [op, length] of [
      [1, 0],
      [2, 5],
      [3, 50_000],
    ] as const) {
      const xs = randomInputs(3, length, op);
      const inputs = xs.map((x) => Float32Array.from(x));
      const out = await Promise.all(group.reducers.map((r, rank) => r.allReduceSum(inputs[rank], op)));
      out.forEach((o, rank) => expect(o).toBe(inputs[rank]));
      for (const o of out) expect(sameBytes(o, rankOrderSum(xs))).toBe(true);
    }
  });

  it('parts of different lengths: the relay sends no sum, both ranks time out and stay failed', async () => {
    const group = await starGroup(2, 500);
    cleanup.push(() => group.close());
    const [a, b] = group.reducers;
    const results = await Promise.allSettled([a.allReduceSum(new Float32Array(2), 1), b.allReduceSum(new Float32Array(3), 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : ''))).toEqual([
      expect.stringMatching(/no sum from the coordinator within 500 ms/),
      expect.stringMatching(/no sum from the coordinator within 500 ms/),
    ]);
    expect([a.state, b.state]).toEqual(['failed', 'failed']);
  });
});
