/** Float inputs for the all-reduce tests of every package. */
import { mulberry32 } from '@gradsync/core';

/** Reproducible inputs in [−1, 1), one array per rank. */
export function randomInputs(world: number, length: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: world }, () => {
    const x = new Float32Array(length);
    for (let i = 0; i < length; i++) x[i] = rand() * 2 - 1;
    return x;
  });
}

/** Bit-for-bit equality (NaN payloads and signed zeros included). */
export function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
