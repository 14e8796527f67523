import { describe, expect, it } from 'vitest';
import { mulberry32, GradsyncError } from '@gradsync/core';
import { addAt, createSegmentAdder } from './simd-add';

/** Floats of every kind: tiny, huge, subnormal, signed zeros, infinities, and ones whose sums round. */
function awkward(length: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const special = [0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, Infinity, -Infinity, 1, 2 ** -24, 1 + 2 ** -23];
  return Float32Array.from({ length }, () =>
    rand() < 0.2 ? special[Math.floor(rand() * special.length)] : (rand() - 0.5) * 2 ** Math.floor(rand() * 60 - 30),
  );
}

const bits = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe('createSegmentAdder', () => {
  it('adds with the same bits as the JS loop at every length and offset, from its scratch or any array', () => {
    const adder = createSegmentAdder(1000);
    for (const length of [0, 1, 3, 4, 5, 7, 8, 63, 999, 1000]) {
      for (const start of [0, 1, 5]) {
        const target = awkward(1010, length * 7 + start);
        const source = awkward(length, length * 13 + start + 1);
        const expected = target.slice();
        addAt(expected, start, source);
        const fromArray = target.slice();
        adder.add(fromArray, start, source);
        expect(bits(fromArray).equals(bits(expected)), `length ${length} at ${start}`).toBe(true);
        const fromScratch = target.slice();
        adder.scratch.set(source);
        adder.add(fromScratch, start, adder.scratch.subarray(0, length));
        expect(bits(fromScratch).equals(bits(expected)), `scratch, length ${length} at ${start}`).toBe(true);
      }
    }
  });

  it('leaves the target outside the segment untouched', () => {
    const adder = createSegmentAdder(16);
    const target = new Float32Array(32).fill(1);
    adder.add(target, 8, new Float32Array(9).fill(2));
    expect([...target]).toEqual([...Array(8).fill(1), ...Array(9).fill(3), ...Array(15).fill(1)]);
  });

  it('refuses a segment over its capacity or outside the target, and a bad capacity', () => {
    const adder = createSegmentAdder(8);
    expect(() => adder.add(new Float32Array(20), 0, new Float32Array(9))).toThrow(/at most 8/);
    expect(() => adder.add(new Float32Array(10), 5, new Float32Array(8))).toThrow(GradsyncError);
    expect(() => adder.add(new Float32Array(10), -1, new Float32Array(2))).toThrow(GradsyncError);
    expect(() => createSegmentAdder(0)).toThrow(/positive integer/);
  });

  it('holds a scratch as large as asked, past one WebAssembly page', () => {
    const adder = createSegmentAdder(300_000);
    expect(adder.scratch.length).toBe(300_000);
    // Node has WebAssembly SIMD: the scratch is the module's memory (two regions), not the JS fallback.
    expect(adder.scratch.buffer.byteLength % 65536).toBe(0);
    expect(adder.scratch.buffer.byteLength).toBeGreaterThanOrEqual(2 * 300_000 * 4);
    const target = new Float32Array(300_000).fill(0.5);
    adder.scratch.fill(0.25);
    adder.add(target, 0, adder.scratch);
    expect(target.every((v) => v === 0.75)).toBe(true);
  });
});
