/**
 * How many samples of each global batch every rank takes. The batch and its order never change,
 * only where it is cut, so the summed gradient (and the trajectory) is the same whatever the
 * split, float32 summation order aside. `speed` gives each member a share in proportion to its
 * measured compute rate, so that a slow worker no longer holds every step back:
 * - the rate (samples per ms of compute, from step-done) is smoothed over recent steps, so one
 *   slow step (a GC pause, a neighbour's burst) does not move the split;
 * - a floor keeps every member at least a tenth of an equal share, so it stays measured;
 * - a dead band keeps the counts unless one would move by more than 2% of the batch, so they do
 *   not flicker by a sample from step to step.
 */
import type { SplitChoice } from '@gradsync/train';

export const SHARE_TUNING = {
  /** Weight of the newest step in a member's smoothed rate. */
  smoothing: 0.3,
  /** Least share of a member, as a fraction of an equal share. */
  floor: 0.1,
  /** Counts are kept unless one would move by more than this fraction of the batch (and at least 1 sample). */
  deadBand: 0.02,
} as const;

/** The newest rate (samples per ms) folded into the previous smoothed one; the first is taken as is. Undefined while nothing usable was measured. */
export function smoothRate(previous: number | undefined, count: number, computeMs: number, smoothing: number = SHARE_TUNING.smoothing): number | undefined {
  // An empty share or a zero time measures nothing.
  if (!(count > 0 && computeMs > 0 && Number.isFinite(computeMs))) return previous;
  const rate = count / computeMs;
  return previous === undefined ? rate : previous + smoothing * (rate - previous);
}

/** `total` as evenly as possible over `n` ranks, the lower ranks taking the extra ones (as shardOfBatch). */
export function equalCounts(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  return Array.from({ length: n }, (_, r) => base + (r < total % n ? 1 : 0));
}

/**
 * Integer counts that add up to `total`, in proportion to `weights`, each weight raised to at
 * least `floor` × the equal share first; rounded by largest remainder (ties to the lower rank).
 * Every rank gets at least one sample while the batch has one for each.
 */
export function proportionalCounts(total: number, weights: readonly number[], floor: number = SHARE_TUNING.floor): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const sum = weights.reduce((a, w) => a + w, 0);
  if (!(sum > 0) || !weights.every((w) => w >= 0 && Number.isFinite(w))) return equalCounts(total, n);
  const fractions = withFloor(
    weights.map((w) => w / sum),
    floor / n,
  );
  const ideal = fractions.map((f) => f * total);
  const counts = ideal.map(Math.floor);
  let left = total - counts.reduce((a, c) => a + c, 0);
  const byRemainder = ideal.map((x, r) => ({ r, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest || a.r - b.r);
  for (const { r } of byRemainder) {
    if (left === 0) break;
    counts[r]++;
    left--;
  }
  if (total >= n) {
    for (let r = 0; r < n; r++) {
      if (counts[r] > 0) continue;
      counts[counts.indexOf(Math.max(...counts))]--;
      counts[r] = 1;
    }
  }
  return counts;
}

/** Fractions (adding up to 1) raised to at least `least` each, the others scaled down to make room. */
function withFloor(fractions: readonly number[], least: number): number[] {
  const out = [...fractions];
  const fixed = new Set<number>();
  // Each pass fixes at least one more rank at the floor, so n passes settle it.
  for (let pass = 0; pass < out.length; pass++) {
    const low = out.flatMap((f, r) => (!fixed.has(r) && f < least ? [r] : []));
    if (low.length === 0) break;
    for (const r of low) fixed.add(r);
    const free = 1 - fixed.size * least;
    const freeSum = out.reduce((a, f, r) => (fixed.has(r) ? a : a + f), 0);
    out.forEach((f, r) => (out[r] = fixed.has(r) ? least : freeSum > 0 ? (f * free) / freeSum : 0));
  }
  return out;
}

/** `previous` when no count would move by more than the dead band, else `target`. */
export function settledCounts(previous: readonly number[] | null, target: readonly number[], deadBand: number = SHARE_TUNING.deadBand): readonly number[] {
  if (!previous || previous.length !== target.length) return target;
  const total = target.reduce((a, c) => a + c, 0);
  if (previous.reduce((a, c) => a + c, 0) !== total) return target;
  const band = Math.max(1, deadBand * total);
  return previous.every((c, r) => Math.abs(c - target[r]) <= band) ? previous : target;
}

/**
 * The split of every global batch among the members (keyed by whatever identifies a member).
 * `equal` is shardOfBatch's split; `speed` follows each member's smoothed rate, a member not yet
 * measured counting as the mean of the others (all equal before any step).
 */
export class BatchShares<K> {
  private readonly rates = new Map<K, number>();
  private previous: { members: readonly K[]; counts: readonly number[] } | null = null;

  constructor(private readonly split: SplitChoice) {}

  /** A step-done answer: `count` samples computed in `computeMs`. */
  record(member: K, count: number, computeMs: number): void {
    const rate = smoothRate(this.rates.get(member), count, computeMs);
    if (rate !== undefined) this.rates.set(member, rate);
  }

  forget(member: K): void {
    this.rates.delete(member);
  }

  /** The member's smoothed rate in samples per ms, if measured. */
  rateOf(member: K): number | undefined {
    return this.rates.get(member);
  }

  /** Samples of a batch of `total` for each member, by rank (`members` in rank order). */
  countsFor(members: readonly K[], total: number): readonly number[] {
    if (this.split === 'equal') return equalCounts(total, members.length);
    const target = this.targetCounts(members, total);
    const same = this.previous && this.previous.members.length === members.length && this.previous.members.every((m, r) => m === members[r]);
    const counts = settledCounts(same ? this.previous!.counts : null, target);
    this.previous = { members: [...members], counts };
    return counts;
  }

  /** The same split for a one-off job of `total` items (an evaluation): no dead band, and the steps' counts are left alone. */
  oneOffCounts(members: readonly K[], total: number): number[] {
    return this.split === 'equal' ? equalCounts(total, members.length) : this.targetCounts(members, total);
  }

  private targetCounts(members: readonly K[], total: number): number[] {
    const known = members.flatMap((m) => this.rates.get(m) ?? []);
    const mean = known.length ? known.reduce((a, r) => a + r, 0) / known.length : 1;
    return proportionalCounts(
      total,
      members.map((m) => this.rates.get(m) ?? mean),
    );
  }
}
