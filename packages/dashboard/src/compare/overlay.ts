import { type AlignedTable, mergeOnX } from '../view-kit/align';
import { pick } from '../view-kit/decimate';
import { smooth } from '../view-kit/smoothing';
import type { CurvePoint, RunCurves, XAxis } from './run-curves';

export type Metric = 'loss' | 'accuracy';

/** Points per run and line: enough for a 1,000-pixel-wide chart, few enough to merge runs fast. */
export const MAX_POINTS_PER_RUN = 1500;

/**
 * One chart's table for several runs: for run i, column 2i is its smoothed training curve and
 * column 2i+1 its validation points, all on the chosen x; rows of different runs interleave by x.
 */
export function overlayTable(runs: readonly RunCurves[], metric: Metric, x: XAxis, smoothing: number, maxPoints = MAX_POINTS_PER_RUN): AlignedTable {
  let table: AlignedTable = { x: [], columns: [] };
  for (const run of runs) {
    const smoothed = smooth(
      run.steps.map((p) => p[metric]),
      smoothing,
    );
    const keep = evenIndices(smoothed.length, maxPoints);
    const train: AlignedTable = { x: pick(run.steps, keep).map((p) => p[x]), columns: [pick(smoothed, keep)] };
    const validation: AlignedTable = { x: run.validation.map((p: CurvePoint) => p[x]), columns: [run.validation.map((p) => p[metric])] };
    table = mergeOnX(table, mergeOnX(train, validation));
  }
  return table;
}

/**
 * About `maxPoints` evenly spaced indices, first and last included. The curves are already
 * smoothed, so even spacing draws their trend; min/max bucketing (the live view's) would draw
 * the noise band of a long run as a thick stripe.
 */
export function evenIndices(n: number, maxPoints: number): number[] {
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const stride = (n - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, k) => Math.round(k * stride));
}
