import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { decodeWire, encodeWire, roundToWire, wireElementOf, wireElementValue, type HalfWireDtype } from './wire-dtype';
import { RingOperation } from './ring-operation';
import { simulateRingAllReduce } from './simulate';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The float32 next to `x` away from zero (+1) or towards it (−1), for x > 0. */
function neighbour(x: number, step: 1 | -1): number {
  f32[0] = x;
  u32[0] += step;
  return f32[0];
}

/** Largest finite positive element of each type, and the element above it (+Infinity). */
const LAST_FINITE = { bf16: 0x7f7f, fp16: 0x7bff } as const;

describe('16-bit wire elements', () => {
  for (const dtype of ['bf16', 'fp16'] as const) {
    it(`${dtype}: every value round-trips, and every midpoint rounds to nearest, ties to even`, () => {
      for (let h = 0; h <= LAST_FINITE[dtype]; h++) {
        const v = wireElementValue(dtype, h);
        expect(wireElementOf(dtype, v)).toBe(h);
        expect(wireElementOf(dtype, -v)).toBe(h | 0x8000);
        const above = h === LAST_FINITE[dtype] ? 2 * v - wireElementValue(dtype, h - 1) : wireElementValue(dtype, h + 1);
        const mid = (v + above) / 2; // exact in float32: one bit more than the wire type has
        expect(Math.fround(mid)).toBe(mid);
        const even = (h & 1) === 0 ? h : h + 1;
        if (wireElementOf(dtype, mid) !== even) expect.fail(`${dtype} ${h.toString(16)}: midpoint ${mid} rounded to ${wireElementOf(dtype, mid).toString(16)}`);
        expect(wireElementOf(dtype, neighbour(mid, -1))).toBe(h);
        if (mid > 0) expect(wireElementOf(dtype, neighbour(mid, 1))).toBe(h + 1);
      }
    });
  }

  it('fp16 overflows to Infinity above 65,504 and keeps subnormals; bf16 keeps float32 range', () => {
    expect(wireElementValue('fp16', wireElementOf('fp16', 65519))).toBe(65504);
    expect(wireElementValue('fp16', wireElementOf('fp16', 65520))).toBe(Infinity);
    expect(wireElementValue('fp16', wireElementOf('fp16', -1e6))).toBe(-Infinity);
    expect(wireElementValue('fp16', wireElementOf('fp16', 2 ** -24))).toBe(2 ** -24);
    expect(wireElementValue('fp16', wireElementOf('fp16', 2 ** -26))).toBe(0);
    expect(wireElementValue('bf16', wireElementOf('bf16', 3e38))).toBeCloseTo(3e38, -36);
    for (const dtype of ['bf16', 'fp16'] as const) {
      expect(Number.isNaN(wireElementValue(dtype, wireElementOf(dtype, NaN)))).toBe(true);
      expect(wireElementValue(dtype, wireElementOf(dtype, Infinity))).toBe(Infinity);
    }
  });

  for (const dtype of ['bf16', 'fp16'] as const) {
    it(`${dtype}: encode, decode (copy and add) and in-place rounding agree element by element`, () => {
      const rand = mulberry32(7);
      const x = Float32Array.from({ length: 1001 }, () => (rand() - 0.5) * 200);
      const wire = new Uint16Array(1001 + 5);
      encodeWire(dtype, x, 0, x.length, wire, 5);
      const copied = new Float32Array(x.length);
      decodeWire(dtype, copied, 0, wire.subarray(5), 'copy');
      const rounded = Float32Array.from(x);
      roundToWire(dtype, rounded, 0, rounded.length);
      const base = Float32Array.from({ length: x.length }, () => rand());
      const added = Float32Array.from(base);
      decodeWire(dtype, added, 0, wire.subarray(5), 'add');
      for (let i = 0; i < x.length; i++) {
        const v = wireElementValue(dtype, wireElementOf(dtype, x[i]));
        expect(copied[i]).toBe(v);
        expect(rounded[i]).toBe(v);
        expect(added[i]).toBe(Math.fround(base[i] + v));
        expect(Math.abs(v - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * (dtype === 'bf16' ? 2 ** -8 : 2 ** -11));
      }
    });
  }

  it('ranges outside the buffers are refused', () => {
    expect(() => encodeWire('bf16', new Float32Array(4), 2, 6, new Uint16Array(8), 0)).toThrow(/outside a buffer of 4/);
    expect(() => decodeWire('fp16', new Float32Array(4), 3, new Uint16Array(2), 'add')).toThrow(/outside a buffer of 4/);
  });
});

describe('ring all-reduce over a 16-bit wire (simulated)', () => {
  for (const dtype of ['bf16', 'fp16'] as HalfWireDtype[]) {
    for (let world = 2; world <= 8; world++) {
      it(`${dtype}, world ${world}: ranks bit-identical, every element a ${dtype} value near the exact sum`, () => {
        const rand = mulberry32(world);
        const length = 997 + world;
        const xs = Array.from({ length: world }, () => Float32Array.from({ length }, () => rand() * 2 - 1));
        const results = simulateRingAllReduce(xs, { segmentElements: 7, deliverySeed: world, wire: dtype });
        const first = Buffer.from(results[0].buffer);
        for (const r of results) expect(Buffer.from(r.buffer).equals(first)).toBe(true);
        // Each of the world−1 hops and the final rounding lose at most half a unit in the last place of the partial sum.
        const unit = dtype === 'bf16' ? 2 ** -8 : 2 ** -11;
        for (let i = 0; i < length; i++) {
          let exact = 0;
          let magnitude = 0;
          for (const x of xs) {
            exact += x[i];
            magnitude += Math.abs(x[i]);
          }
          const v = results[0][i];
          expect(wireElementValue(dtype, wireElementOf(dtype, v))).toBe(v);
          if (Math.abs(v - exact) > world * unit * magnitude) expect.fail(`element ${i}: ${v} vs exact ${exact}`);
        }
      });
    }
  }

  it('a 16-bit ring refuses float32 payloads and a float32 ring 16-bit ones', () => {
    const half = new RingOperation(new Float32Array(8), 0, 2, 4, undefined, 'bf16');
    expect(() => half.accept(new Float32Array(4))).toThrow(/bf16 ring got a float32 payload/);
    const full = new RingOperation(new Float32Array(8), 0, 2, 4);
    expect(() => full.accept(new Uint16Array(4))).toThrow(/float32 ring got a 16-bit payload/);
  });
});
