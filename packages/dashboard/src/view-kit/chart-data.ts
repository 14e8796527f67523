import { type AlignedTable, mergeOnX } from './align';
import { minMaxIndices, pick } from './decimate';
import type { RunState } from './run-state';
import { SmoothedSeries } from './smoothing';

/** Points per chart line at most; beyond that series are min/max bucketed. */
export const MAX_CHART_POINTS = 2000;

export interface EpochMark {
  step: number;
  epoch: number;
}

export interface TrainValTable {
  table: AlignedTable;
  /** Train points plotted (after decimation). */
  trainPoints: number;
  /** Where each epoch ended (vertical marks); `epoch` is 0-based. */
  epochMarks: EpochMark[];
}

/**
 * Turns the run's series into what the charts draw: smoothed (TensorBoard EMA, cached and
 * extended incrementally), decimated to MAX_CHART_POINTS, validation points merged in on x.
 */
export class ChartData {
  private loss = new SmoothedSeries(0);
  private accuracy = new SmoothedSeries(0);
  private throughput = new SmoothedSeries(0);
  private perWorker = new Map<number, SmoothedSeries>();

  constructor(private readonly maxPoints = MAX_CHART_POINTS) {}

  /** Columns: train raw, train smoothed, validation. */
  lossTable(state: RunState, weight: number): TrainValTable {
    return this.trainVal(state, weight, this.loss, state.steps.loss, (e) => e.validation?.loss ?? null);
  }

  /** Columns: train raw, train smoothed, validation (fractions 0..1). */
  accuracyTable(state: RunState, weight: number): TrainValTable {
    return this.trainVal(state, weight, this.accuracy, state.steps.accuracy, (e) => e.validation?.accuracy ?? null);
  }

  /** Columns: global img/s (smoothed), then one per rank (smoothed), in `ranks` order. */
  throughputTable(state: RunState, weight: number): { table: AlignedTable; ranks: number[] } {
    const s = state.steps;
    const global = this.throughput.sync(s.imagesPerSec, weight, state.revision);
    const ranks = [...s.workerImagesPerSec.keys()].sort((a, b) => a - b);
    const idx = minMaxIndices(global, this.maxPoints);
    const columns: (number | null)[][] = [pick(global, idx)];
    for (const rank of ranks) {
      let sm = this.perWorker.get(rank);
      if (!sm) this.perWorker.set(rank, (sm = new SmoothedSeries(weight)));
      const raw = s.workerImagesPerSec.get(rank) ?? [];
      // Smooth over the steps the rank took part in; gaps stay gaps.
      const values = sm.sync(raw, weight, state.revision);
      columns.push(pick(values, idx).map((v) => (Number.isFinite(v) ? v : null)));
    }
    return { table: { x: pick(s.step, idx), columns }, ranks };
  }

  /** Column: learning rate per step. */
  lrTable(state: RunState): AlignedTable {
    const idx = minMaxIndices(state.steps.lr, this.maxPoints);
    return { x: pick(state.steps.step, idx), columns: [pick(state.steps.lr, idx).map((v) => (v > 0 ? v : null))] };
  }

  private trainVal(
    state: RunState,
    weight: number,
    smoother: SmoothedSeries,
    raw: number[],
    validation: (e: RunState['epochs'][number]) => number | null,
  ): TrainValTable {
    const smoothed = smoother.sync(raw, weight, state.revision);
    const idx = minMaxIndices(raw, this.maxPoints);
    const train: AlignedTable = { x: pick(state.steps.step, idx), columns: [pick(raw, idx), pick(smoothed, idx)] };
    const epochs = [...state.epochs].sort((a, b) => a.step - b.step);
    const withVal = epochs.filter((e) => validation(e) !== null);
    const val: AlignedTable = { x: withVal.map((e) => e.step), columns: [withVal.map(validation)] };
    return { table: mergeOnX(train, val), trainPoints: idx.length, epochMarks: epochs.map((e) => ({ step: e.step, epoch: e.epoch })) };
  }
}
