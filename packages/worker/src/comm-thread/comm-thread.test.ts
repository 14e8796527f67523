import { describe, expect, it } from 'vitest';
import { createThreadedRingProvider } from './comm-thread';

const quiet = { listenHost: '127.0.0.1', local: true, log: () => {} };

function shared(values: number[]): Float32Array {
  const f = new Float32Array(new SharedArrayBuffer(values.length * 4));
  f.set(values);
  return f;
}

describe('the ring on a communication thread (real threads and sockets)', () => {
  it('runs several operations in flight in call order, in place in shared memory; other memory through a copy', async () => {
    const [a, b] = await Promise.all([createThreadedRingProvider(quiet), createThreadedRingProvider(quiet)]);
    try {
      const peers = [await a.prepare(), await b.prepare()] as string[];
      expect(peers.every((u) => u?.startsWith('ws://127.0.0.1:'))).toBe(true);
      const setup = { world: 2, peers, runId: 'thread-test', wireDtype: 'f32' as const };
      const [ra, rb] = await Promise.all([a.join({ ...setup, rank: 0 }), b.join({ ...setup, rank: 1 })]);
      expect(ra.queuesOperations).toBe(true);
      const n = 50_000;
      const xa = shared(Array.from({ length: n }, (_, i) => i));
      const xb = shared(Array.from({ length: n }, (_, i) => 2 * i));
      // Three buckets of one buffer, all started before any finishes, as a backward pass does.
      const cuts = [
        [30_000, n],
        [10_000, 30_000],
        [0, 10_000],
      ];
      const opsA = cuts.map(([s, e], k) => ra.allReduceSum(xa.subarray(s, e), 100 + k));
      const opsB = cuts.map(([s, e], k) => rb.allReduceSum(xb.subarray(s, e), 100 + k));
      const results = await Promise.all([...opsA, ...opsB]);
      expect(results[0].buffer).toBe(xa.buffer);
      for (const x of [xa, xb]) for (let i = 0; i < n; i += 997) expect(x[i]).toBe(3 * i);
      expect(ra.wire.sent).toBeGreaterThanOrEqual(n * 4);
      // A plain array (not shared) goes through a shared copy and comes back in place.
      const pa = new Float32Array([1, 2, 3]);
      const pb = new Float32Array([10, 20, 30]);
      const [sa] = await Promise.all([ra.allReduceSum(pa, 200), rb.allReduceSum(pb, 200)]);
      expect(sa).toBe(pa);
      expect([...pa]).toEqual([11, 22, 33]);
      expect([...pb]).toEqual([11, 22, 33]);
      await Promise.all([ra.close(), rb.close()]);
      await expect(ra.allReduceSum(xa, 300)).rejects.toThrow(/the reducer is closed/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a peer that goes away fails the operations in flight with the ring’s error, not a hang', async () => {
    const [a, b] = await Promise.all([createThreadedRingProvider(quiet), createThreadedRingProvider(quiet)]);
    try {
      const peers = [await a.prepare(), await b.prepare()] as string[];
      const setup = { world: 2, peers, runId: 'thread-fail', wireDtype: 'f32' as const };
      const [ra] = await Promise.all([a.join({ ...setup, rank: 0 }), b.join({ ...setup, rank: 1 })]);
      const settled = Promise.allSettled([ra.allReduceSum(shared([1, 2]), 1), ra.allReduceSum(shared([3, 4]), 2)]);
      await b.close();
      const outcomes = await settled;
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      for (const o of outcomes) expect(String((o as PromiseRejectedResult).reason)).toMatch(/ring link to rank 1 closed|the reducer is closed/);
    } finally {
      await a.close();
    }
  });
});
