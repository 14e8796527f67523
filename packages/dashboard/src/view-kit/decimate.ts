/**
 * Min/max bucketing: which points of a long series to draw so that a chart keeps every spike.
 * With n ≤ maxPoints every index is kept; beyond that the series is cut into maxPoints/2 buckets
 * and each contributes its lowest and highest point, in x order, plus the very first and last
 * points. The result never has more than maxPoints + 2 indices and is strictly increasing.
 */
export function minMaxIndices(values: ArrayLike<number | null>, maxPoints: number): number[] {
  const n = values.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const out: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v === null || !Number.isFinite(v)) continue;
      if (lo < 0 || v < (values[lo] as number)) lo = i;
      if (hi < 0 || v > (values[hi] as number)) hi = i;
    }
    // A bucket with nothing finite keeps its first index, so the gap stays visible.
    if (lo < 0) pushIndex(out, from);
    else if (lo === hi) pushIndex(out, lo);
    else {
      pushIndex(out, Math.min(lo, hi));
      pushIndex(out, Math.max(lo, hi));
    }
  }
  pushIndex(out, n - 1);
  return out;
}

function pushIndex(out: number[], i: number): void {
  if (out[out.length - 1] !== i) out.push(i);
}

/** The elements of `values` at `indices`. */
export function pick<T>(values: ArrayLike<T>, indices: readonly number[]): T[] {
  const out = new Array<T>(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}
