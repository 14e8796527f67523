import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { RingOperation } from './ring-operation';
import { simulateRingAllReduce, simulateStarAllReduce } from './simulate';

function inputs(world: number, length: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: world }, () => {
    const x = new Float32Array(length);
    for (let i = 0; i < length; i++) x[i] = rand() * 2 - 1;
    return x;
  });
}

function bytesOf(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** Every rank identical, bit for bit, to rank 0. */
function expectBitIdentical(results: Float32Array[]): void {
  const first = Buffer.from(bytesOf(results[0]));
  for (const r of results) expect(Buffer.from(bytesOf(r)).equals(first)).toBe(true);
}

/** Within float32 rounding of the exact (float64) sum: at most world roundings of Σ|x|. */
function expectNearExact(result: Float32Array, xs: Float32Array[]): void {
  const world = xs.length;
  let worst = 0;
  for (let i = 0; i < result.length; i++) {
    let exact = 0;
    let magnitude = 0;
    for (const x of xs) {
      exact += x[i];
      magnitude += Math.abs(x[i]);
    }
    const err = Math.abs(result[i] - exact) / (world * 2 ** -24 * magnitude + 1e-30);
    if (err > worst) worst = err;
  }
  expect(worst).toBeLessThanOrEqual(1);
}

/** Ring and star agree within the rounding both may carry. */
function expectAgree(a: Float32Array, b: Float32Array, xs: Float32Array[]): void {
  for (let i = 0; i < a.length; i++) {
    let magnitude = 0;
    for (const x of xs) magnitude += Math.abs(x[i]);
    const bound = 2 * xs.length * 2 ** -24 * magnitude;
    if (Math.abs(a[i] - b[i]) > bound) expect.fail(`element ${i}: ring ${a[i]} vs star ${b[i]} differ by more than ${bound}`);
  }
}

describe('ring and star all-reduce simulations', () => {
  for (let world = 1; world <= 8; world++) {
    const lengths = [0, Math.max(0, world - 1), world * 3 + 1, 1000 + world, 1_000_000];
    for (const length of lengths) {
      it(`world ${world}, length ${length}`, () => {
        const xs = inputs(world, length, world * 1000 + length);
        const segmentElements = length >= 1_000_000 ? 16_384 : 3;
        const ring = simulateRingAllReduce(xs, { segmentElements, deliverySeed: world + length });
        const star = simulateStarAllReduce(
          xs,
          xs.map((_, r) => world - 1 - r),
        );
        expect(ring).toHaveLength(world);
        for (const r of ring) expect(r.length).toBe(length);
        expectBitIdentical(ring);
        expectBitIdentical(star);
        expectNearExact(ring[0], xs);
        expectNearExact(star[0], xs);
        expectAgree(ring[0], star[0], xs);
        // Inputs are untouched.
        expect(xs[0].length).toBe(length);
      });
    }
  }

  it('gives the same bits whatever the segment size and delivery order', () => {
    const xs = inputs(5, 1237, 7);
    const a = simulateRingAllReduce(xs, { segmentElements: 1 });
    const b = simulateRingAllReduce(xs, { segmentElements: 100, deliverySeed: 1 });
    const c = simulateRingAllReduce(xs, { deliverySeed: 2 });
    expect(Buffer.from(bytesOf(a[0])).equals(Buffer.from(bytesOf(b[0])))).toBe(true);
    expect(Buffer.from(bytesOf(a[0])).equals(Buffer.from(bytesOf(c[0])))).toBe(true);
  });

  it('star sums in rank order whatever the arrival order', () => {
    const xs = inputs(4, 999, 3);
    const a = simulateStarAllReduce(xs, [0, 1, 2, 3]);
    const b = simulateStarAllReduce(xs, [3, 1, 0, 2]);
    expect(Buffer.from(bytesOf(a[0])).equals(Buffer.from(bytesOf(b[0])))).toBe(true);
  });

  it('a world of one returns its input', () => {
    const [x] = inputs(1, 5, 1);
    expect(Array.from(simulateRingAllReduce([x])[0])).toEqual(Array.from(x));
  });

  it('RingOperation refuses a wrong-length payload and accepting after completion', () => {
    const op = new RingOperation(new Float32Array(4), 0, 2, 2);
    expect(() => op.accept(new Float32Array(1))).toThrow(/needs 2 elements/);
    expect(op.totalReceives).toBe(2);
    const data = new Float32Array(4);
    const done = new RingOperation(data, 0, 1, 2);
    expect(done.done).toBe(true);
    expect(() => done.accept(new Float32Array(0))).toThrow(/already complete/);
  });
});
