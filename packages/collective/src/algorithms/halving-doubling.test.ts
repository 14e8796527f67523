import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { HalvingDoublingOperation, halvingDoublingPartners, halvingDoublingSchedule, halvingDoublingScratchLength, isPowerOfTwo } from './halving-doubling';
import { RingPeerOperation } from './peer-operation';
import { RingOperation } from './ring-operation';
import { simulateHalvingDoublingAllReduce, simulatePeerOperations, simulateRingAllReduce } from './simulate';
import { rankOrderSum } from './sum';

function inputs(world: number, length: number, seed: number, integers = false): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: world }, () => Float32Array.from({ length }, () => (integers ? Math.floor(rand() * 2001) - 1000 : rand() * 2 - 1)));
}

const bits = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe('halving-doubling schedule', () => {
  for (const world of [2, 4, 8, 16]) {
    it(`world ${world}: partners agree on each exchange, and the owned ranges tile the buffer`, () => {
      const length = 1000 + world;
      const schedules = Array.from({ length: world }, (_, r) => halvingDoublingSchedule(r, world, length));
      const m = Math.log2(world);
      for (let r = 0; r < world; r++) {
        expect(schedules[r]).toHaveLength(2 * m);
        for (const s of schedules[r]) {
          const theirs = schedules[s.partner][s.globalStep];
          expect(theirs.partner).toBe(r);
          expect(theirs.send).toEqual(s.recv); // what the partner sends is what this rank receives
          expect(theirs.recv).toEqual(s.send);
        }
      }
      // After reduce-scatter each rank owns one range; together they cover [0, length) once.
      const owned = schedules.map((s) => s[m - 1].recv).sort((a, b) => a.start - b.start);
      let at = 0;
      for (const o of owned) {
        expect(o.start).toBe(at);
        at = o.end;
      }
      expect(at).toBe(length);
      expect(halvingDoublingPartners(3 % world, world)).toEqual(schedules[3 % world].slice(0, m).map((s) => s.partner));
    });
  }

  it('refuses a world that is not a power of two, and names it', () => {
    expect(isPowerOfTwo(6)).toBe(false);
    expect(() => halvingDoublingSchedule(0, 6, 10)).toThrow(/power-of-two world, got 6/);
    expect(halvingDoublingPartners(0, 6)).toEqual([]);
  });
});

describe('halving-doubling all-reduce (simulated)', () => {
  for (const world of [1, 2, 4, 8]) {
    for (const length of [0, Math.max(0, world - 1), world * 3 + 1, 1000 + world, 200_000]) {
      it(`world ${world}, length ${length}: every rank ends with the same bits, the exact sum of integers`, () => {
        const xs = inputs(world, length, world * 7 + length, true);
        const segmentElements = length >= 200_000 ? 4096 : 3;
        const out = simulateHalvingDoublingAllReduce(xs, { segmentElements, deliverySeed: world + length });
        const exact = rankOrderSum(xs); // integers: every order gives these bits
        for (const r of out) expect(bits(r).equals(bits(exact))).toBe(true);
      });
    }
  }

  it('random floats: identical bits on every rank, whatever the delivery order and segment size', () => {
    const xs = inputs(8, 5003, 11);
    const a = simulateHalvingDoublingAllReduce(xs, { segmentElements: 1 });
    const b = simulateHalvingDoublingAllReduce(xs, { segmentElements: 97, deliverySeed: 3 });
    const c = simulateHalvingDoublingAllReduce(xs, { deliverySeed: 4 });
    for (const r of [...a, ...b, ...c]) expect(bits(r).equals(bits(a[0]))).toBe(true);
    // Close to the exact sum (a tree of 3 additions per element).
    for (let i = 0; i < xs[0].length; i++) {
      let exact = 0;
      let magnitude = 0;
      for (const x of xs) {
        exact += x[i];
        magnitude += Math.abs(x[i]);
      }
      expect(Math.abs(a[0][i] - exact)).toBeLessThanOrEqual(3 * 2 ** -24 * magnitude);
    }
  });

  it('a later step partner sending first is staged, not added out of turn', () => {
    // Seeded orders deliver later steps' segments before earlier ones; the bits must not move.
    const xs = inputs(4, 64, 5);
    const reference = simulateHalvingDoublingAllReduce(xs, { segmentElements: 4 });
    for (let seed = 0; seed < 20; seed++) {
      const out = simulateHalvingDoublingAllReduce(xs, { segmentElements: 4, deliverySeed: seed });
      for (const r of out) expect(bits(r).equals(bits(reference[0]))).toBe(true);
    }
  });

  it('the ring behind the same PeerOperation interface gives the ring bits', () => {
    const xs = inputs(5, 777, 9);
    const buffers = xs.map((x) => Float32Array.from(x));
    const ops = buffers.map((b, r) => new RingPeerOperation(new RingOperation(b, r, 5, 10), b, (r + 4) % 5, (r + 1) % 5));
    simulatePeerOperations(buffers, ops, 2);
    const ring = simulateRingAllReduce(xs, { segmentElements: 10 });
    for (const b of buffers) expect(bits(b).equals(bits(ring[0]))).toBe(true);
  });

  it('refuses a segment from a rank it does not expect, a wrong length, too little staging, and a 16-bit payload', () => {
    const length = 16;
    const scratch = new Float32Array(halvingDoublingScratchLength(0, 4, length));
    const op = new HalvingDoublingOperation(new Float32Array(length), 0, 4, 4, scratch);
    expect(op.initialSends.map((t) => [t.peer, t.start, t.end])).toEqual([
      [1, 8, 12],
      [1, 12, 16],
    ]);
    expect(op.expectedFrom(3)).toBeNull();
    expect(() => op.acceptPlaced(3)).toThrow(/no segment is expected from rank 3/);
    expect(() => op.accept(1, new Float32Array(3))).toThrow(/needs 4 elements, got 3/);
    expect(() => op.accept(1, new Uint16Array(4))).toThrow(/float32 only/);
    expect(() => new HalvingDoublingOperation(new Float32Array(length), 0, 4, 4, new Float32Array(3))).toThrow(/needs 12 floats of staging/);
    // Rank 2's step-1 segments, sent before rank 1's step-0 ones arrived, wait in staging.
    expect(op.expectedFrom(2)).toMatchObject({ phase: 'reduce-scatter', step: 1, segment: 0, start: 0, end: 4 });
    op.placeFor(2)!.fill(1);
    expect(op.acceptPlaced(2)).toEqual([]); // step 0 is not complete: nothing to send yet
  });
});
