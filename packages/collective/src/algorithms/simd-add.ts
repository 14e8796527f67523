/**
 * The reduce-scatter's add, `target[start + i] += source[i]`, four floats at a time in
 * WebAssembly SIMD. A JS loop over Float32Arrays costs 2.5–3.7 ns per float here (each element
 * widened to double and rounded back); on the ring's CPU budget that was 40% of a 660 KiB
 * all-reduce. `f32x4.add` is IEEE float32 addition lane by lane, so the sums are the same bits as
 * the JS loop's (Note [Float32 sums] in sum.ts); only a NaN's payload bits may differ.
 *
 * WebAssembly reads only its own memory: the segment is copied in, added and copied back, while
 * the source can be received straight into the adder's memory (`scratch`), as the ring's links do.
 */
import { GradsyncError } from '@gradsync/core';

/** A reducer's add kernel and the scratch it adds from. */
export interface SegmentAdder {
  /** Floats of scratch: the largest segment. */
  readonly capacity: number;
  /** Where a segment to add should be received (valid for the adder's life). */
  readonly scratch: Float32Array;
  /** target[start + i] += source[i] for every i of source (at most `capacity` floats). */
  add(target: Float32Array, start: number, source: Float32Array): void;
}

/**
 * The module, assembled by hand (20 instructions): memory 0 exported, and
 * add(dst, src, n): for 4 floats at a time while they last, v128 dst += src, then one float at a
 * time; dst and src are byte offsets.
 */
// prettier-ignore
const MODULE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type 0: (i32, i32, i32) -> ()
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory 0: 1 page, growable
  0x07, 0x10, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // exports "memory", "add"
  0x0a, 0x7c, 0x01, 0x7a, 0x01, 0x02, 0x7f, // code: one body, locals $end4 $end (i32)
  0x20, 0x01, 0x20, 0x02, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x04, // $end = src + n*4
  0x20, 0x01, 0x20, 0x02, 0x41, 0x7c, 0x71, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x03, // $end4 = src + (n & ~3)*4
  0x02, 0x40, 0x03, 0x40, // block loop
  0x20, 0x01, 0x20, 0x03, 0x4f, 0x0d, 0x01, // src >= $end4: out
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, 0x20, 0x01, 0xfd, 0x00, 0x02, 0x00, 0xfd, 0xe4, 0x01, 0xfd, 0x0b, 0x02, 0x00, // *dst = *dst + *src (f32x4)
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, 0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // dst += 16, src += 16
  0x0c, 0x00, 0x0b, 0x0b, // again; end loop, block
  0x02, 0x40, 0x03, 0x40, // block loop
  0x20, 0x01, 0x20, 0x04, 0x4f, 0x0d, 0x01, // src >= $end: out
  0x20, 0x00, 0x20, 0x00, 0x2a, 0x02, 0x00, 0x20, 0x01, 0x2a, 0x02, 0x00, 0x92, 0x38, 0x02, 0x00, // *dst = *dst + *src (f32)
  0x20, 0x00, 0x41, 0x04, 0x6a, 0x21, 0x00, 0x20, 0x01, 0x41, 0x04, 0x6a, 0x21, 0x01, // dst += 4, src += 4
  0x0c, 0x00, 0x0b, 0x0b, // again; end loop, block
  0x0b, // end function
);

let compiled: WebAssembly.Module | null | undefined;

function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(MODULE) ? new WebAssembly.Module(MODULE) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The JS loop: the reference, and the adder where WebAssembly SIMD is missing. */
export function addAt(target: Float32Array, start: number, source: Float32Array): void {
  for (let i = 0, j = start; i < source.length; i++, j++) target[j] += source[i];
}

function checkAdd(capacity: number, target: Float32Array, start: number, source: Float32Array): void {
  if (source.length > capacity || !Number.isInteger(start) || start < 0 || start + source.length > target.length) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `cannot add ${source.length} floats at ${start} into ${target.length} (the adder holds at most ${capacity})`);
  }
}

/** A SIMD adder for segments of up to `capacity` floats; the JS loop where WebAssembly SIMD is missing. */
export function createSegmentAdder(capacity: number): SegmentAdder {
  if (!Number.isInteger(capacity) || capacity < 1) throw new GradsyncError('E_ALLREDUCE_ARG', `adder capacity must be a positive integer, got ${capacity}`);
  const module = wasmModule();
  if (module === null) {
    const scratch = new Float32Array(capacity);
    return {
      capacity,
      scratch,
      add(target, start, source) {
        checkAdd(capacity, target, start, source);
        addAt(target, start, source);
      },
    };
  }
  const instance = new WebAssembly.Instance(module);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const wasmAdd = instance.exports.add as (dst: number, src: number, n: number) => void;
  // Two regions, grown once here (a later grow would detach the views): the source, then the target's copy.
  const regionBytes = Math.ceil((capacity * 4) / 16) * 16;
  const pages = Math.ceil((2 * regionBytes) / 65536);
  if (pages > 1) memory.grow(pages - 1);
  const scratch = new Float32Array(memory.buffer, 0, capacity);
  const staged = new Float32Array(memory.buffer, regionBytes, capacity);
  return {
    capacity,
    scratch,
    add(target, start, source) {
      checkAdd(capacity, target, start, source);
      const n = source.length;
      if (source.buffer !== memory.buffer || source.byteOffset !== 0) scratch.set(source);
      staged.set(target.subarray(start, start + n));
      wasmAdd(regionBytes, 0, n);
      target.set(staged.subarray(0, n), start);
    },
  };
}
