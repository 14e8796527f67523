/**
 * TensorBoard's scalar smoothing: an exponential moving average debiased the way Adam debiases
 * its moments, so the first points are not pulled towards zero. weight 0 = raw, 0.99 = very smooth.
 * Non-finite values pass through unchanged and do not disturb the average.
 */
export class EmaSmoother {
  private last = 0;
  private count = 0;

  constructor(readonly weight: number) {}

  push(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    const debias = this.weight === 1 ? 1 : 1 - Math.pow(this.weight, this.count);
    return this.last / debias;
  }
}

/** Smooths a whole series (pure). */
export function smooth(values: ArrayLike<number>, weight: number): number[] {
  const ema = new EmaSmoother(weight);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ema.push(values[i]);
  return out;
}

/**
 * The smoothed twin of a series that only grows at its end: `sync` smooths just the new points,
 * and starts over when the weight changes, the source got shorter, or `revision` changed (the
 * owner bumps it whenever it rewrites earlier points, e.g. a run resumed from a checkpoint).
 */
export class SmoothedSeries {
  readonly values: number[] = [];
  private ema: EmaSmoother;
  private revision = 0;

  constructor(private weight: number) {
    this.ema = new EmaSmoother(weight);
  }

  /** `null` in the source (no value at that step) smooths to NaN and leaves the average alone. */
  sync(source: ArrayLike<number | null>, weight: number = this.weight, revision = this.revision): number[] {
    if (weight !== this.weight || revision !== this.revision || source.length < this.values.length) {
      this.weight = weight;
      this.revision = revision;
      this.ema = new EmaSmoother(weight);
      this.values.length = 0;
    }
    for (let i = this.values.length; i < source.length; i++) this.values.push(this.ema.push(source[i] ?? Number.NaN));
    return this.values;
  }
}
