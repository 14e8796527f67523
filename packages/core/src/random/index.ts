/**
 * Deterministic pseudo-random numbers keyed by integers, so that a value depends only on
 * (seed, epoch, sample index, …) and not on which process or in which order it is drawn.
 */

/** 32-bit integer hash (lowbias32 by Chris Wellons); a good avalanche for keyed streams. */
export function hash32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Combines several integer keys into one 32-bit seed. */
export function mixKeys(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const k of keys) h = hash32((h ^ hash32(k >>> 0)) + 0x6d2b79f5);
  return h >>> 0;
}

/** mulberry32: a small, fast, seedable generator returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform float in [0, 1) for a tuple of integer keys. */
export function uniformFor(...keys: number[]): number {
  return hash32(mixKeys(...keys)) / 4294967296;
}

/** Deterministic values in [-1, 1) (a small LCG), so failures reproduce. */
export function seededValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
