/**
 * What an all-reduce's floats travel as: float32 (exact), or 16 bits each (bfloat16 or IEEE
 * half), PyTorch DDP's bf16/fp16 compression hooks. Sums are always taken in float32.
 *
 * Note [Wire rounding]
 * With a 16-bit wire, each partial sum of the ring's reduce-scatter is rounded to the wire type
 * when sent and added in float32 when received; the rank that completes a chunk's sum rounds its
 * own copy in place before the all-gather sends it (RingOperation), so every rank ends with the
 * same bits: the rounded sum, received by copy everywhere else. Rounding is to nearest, ties to
 * even; bf16 keeps float32's range (8 bits of mantissa), fp16 keeps 11 bits but overflows to
 * Infinity above 65,504 (a step whose sum overflows is then skipped as non-finite, as any other).
 */
import { GradsyncError } from '@gradsync/core';

export const WIRE_DTYPES = ['f32', 'bf16', 'fp16'] as const;
export type WireDtype = (typeof WIRE_DTYPES)[number];
export type HalfWireDtype = Exclude<WireDtype, 'f32'>;

export function isWireDtype(value: unknown): value is WireDtype {
  return (WIRE_DTYPES as readonly unknown[]).includes(value);
}

export function wireBytesPerElement(dtype: WireDtype): 2 | 4 {
  return dtype === 'f32' ? 4 : 2;
}

// One float of scratch, seen as bits, for the per-element conversions.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bfloat16 nearest to the float32 with bits `u` (ties to even; NaN stays a quiet NaN). */
function bf16FromBits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** 0.5 in float32: adding it to a value below 2^-14 rounds that value to a multiple of 2^-24, a half subnormal. */
const SUBNORMAL_MAGIC_BITS = 0x3f000000;

/**
 * The IEEE half nearest to the float32 with bits `u` (ties to even; overflow to ±Infinity; NaN to
 * a quiet NaN). Integer arithmetic for normal halves, one float32 addition for subnormal ones
 * (F. Giesen's float_to_half_fast3_rtne, in spirit).
 */
function fp16FromBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const f = u & 0x7fffffff;
  if (f >= 0x47800000) return sign | (f > 0x7f800000 ? 0x7e00 : 0x7c00); // ≥ 65536 (before rounding), Infinity, NaN
  if (f < 0x38800000) {
    // Below 2^-14: the float32 addition does the rounding (Note [Float32 sums]).
    scratchU32[0] = f;
    scratchF32[0] += 0.5;
    return sign | (scratchU32[0] - SUBNORMAL_MAGIC_BITS);
  }
  // Rebias the exponent and round the 13 dropped bits to nearest, ties to the even mantissa; a
  // carry moves into the exponent, up to Infinity, which is still the nearest.
  return sign | ((f - 0x38000000 + 0xfff + ((f >>> 13) & 1)) >>> 13);
}

let fp16Table: Float32Array | null = null;

/** Every half's float32 value, built once (256 KiB). */
function fp16Values(): Float32Array {
  if (fp16Table) return fp16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0x1f) table[h] = m === 0 ? sign * Infinity : NaN;
    else if (e === 0) table[h] = sign * m * 2 ** -24;
    else table[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  fp16Table = table;
  return table;
}

/** The float32 value of one 16-bit wire element. */
export function wireElementValue(dtype: HalfWireDtype, bits: number): number {
  if (dtype === 'fp16') return fp16Values()[bits & 0xffff];
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}

/** The 16-bit wire element nearest to `value` (rounded to float32 first). */
export function wireElementOf(dtype: HalfWireDtype, value: number): number {
  scratchF32[0] = value;
  return dtype === 'fp16' ? fp16FromBits(scratchU32[0]) : bf16FromBits(scratchU32[0]);
}

function bitsOf(data: Float32Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

function checkRange(what: string, data: { length: number }, start: number, count: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > data.length) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `${what}: elements [${start}, ${start + count}) are outside a buffer of ${data.length}`);
  }
}

/** out[outStart + i] = wire(source[start + i]) for i < end − start. */
export function encodeWire(dtype: HalfWireDtype, source: Float32Array, start: number, end: number, out: Uint16Array, outStart: number): void {
  checkRange('encode source', source, start, end - start);
  checkRange('encode target', out, outStart, end - start);
  const bits = bitsOf(source);
  if (dtype === 'fp16') {
    for (let i = start, o = outStart; i < end; i++, o++) out[o] = fp16FromBits(bits[i]);
    return;
  }
  for (let i = start, o = outStart; i < end; i++, o++) {
    const u = bits[i];
    out[o] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
}

/**
 * Combines 16-bit wire elements into float32 data from `start`: `add` sums them in float32
 * (target[start + i] += value(payload[i])), `copy` writes their values.
 */
export function decodeWire(dtype: HalfWireDtype, target: Float32Array, start: number, payload: Uint16Array, combine: 'add' | 'copy'): void {
  checkRange('decode target', target, start, payload.length);
  const n = payload.length;
  if (dtype === 'fp16') {
    const table = fp16Values();
    if (combine === 'add') for (let i = 0; i < n; i++) target[start + i] += table[payload[i]];
    else for (let i = 0; i < n; i++) target[start + i] = table[payload[i]];
    return;
  }
  if (combine === 'copy') {
    const bits = bitsOf(target);
    for (let i = 0; i < n; i++) bits[start + i] = payload[i] << 16;
    return;
  }
  for (let i = 0; i < n; i++) {
    scratchU32[0] = payload[i] << 16;
    target[start + i] += scratchF32[0];
  }
}

/** Rounds data[start, end) in place to values the wire type holds exactly (Note [Wire rounding]). */
export function roundToWire(dtype: HalfWireDtype, data: Float32Array, start: number, end: number): void {
  checkRange('round', data, start, end - start);
  const bits = bitsOf(data);
  if (dtype === 'bf16') {
    for (let i = start; i < end; i++) bits[i] = bf16FromBits(bits[i]) << 16;
    return;
  }
  const table = fp16Values();
  for (let i = start; i < end; i++) data[i] = table[fp16FromBits(bits[i])];
}
