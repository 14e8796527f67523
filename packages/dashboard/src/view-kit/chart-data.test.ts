import { describe, expect, it } from 'vitest';
import { ChartData } from './chart-data';
import { scriptedRun, stepRecord } from './fixtures';
import { RunState } from './run-state';
import { smooth } from './smoothing';

function stateOf(steps: number): RunState {
  const s = new RunState();
  for (const r of scriptedRun(steps)) s.apply(r);
  return s;
}

describe('ChartData', () => {
  it('gives train raw + smoothed + validation on one x axis with epoch marks', () => {
    const state = stateOf(25);
    const { table, trainPoints, epochMarks } = new ChartData().lossTable(state, 0.6);
    expect(trainPoints).toBe(25);
    expect(epochMarks).toEqual([
      { step: 10, epoch: 0 },
      { step: 20, epoch: 1 },
    ]);
    expect(table.x).toEqual([...Array(25).keys()]);
    expect(table.columns[0]).toEqual(state.steps.loss);
    expect(table.columns[1]).toEqual(smooth(state.steps.loss, 0.6));
    expect(table.columns[2][10]).toBe(1.9);
    expect(table.columns[2].filter((v) => v !== null)).toHaveLength(2);
  });

  it('decimates beyond the cap but keeps the extremes', () => {
    const state = stateOf(3000);
    state.apply(stepRecord(3000, { loss: 50 }));
    const { table, trainPoints } = new ChartData(200).lossTable(state, 0);
    expect(trainPoints).toBeLessThanOrEqual(202);
    expect(Math.max(...(table.columns[0].filter((v) => v !== null) as number[]))).toBe(50);
  });

  it('smooths incrementally: the same as smoothing from scratch after more steps arrive', () => {
    const state = stateOf(15);
    const charts = new ChartData();
    charts.accuracyTable(state, 0.9);
    for (let s = 15; s < 40; s++) state.apply(stepRecord(s, { accuracy: Math.random() }));
    const { table } = charts.accuracyTable(state, 0.9);
    const smoothed = smooth(state.steps.accuracy, 0.9);
    table.columns[1].forEach((v, i) => expect(v).toBeCloseTo(smoothed[i], 12));
  });

  it('throughput has the global line and one per rank', () => {
    const { table, ranks } = new ChartData().throughputTable(stateOf(12), 0);
    expect(ranks).toEqual([0, 1]);
    expect(table.columns).toHaveLength(3);
    expect(table.columns[0][0]).toBe(128);
    expect(table.columns[1][0]).toBeCloseTo(64);
  });

  it('learning rate per step', () => {
    const { x, columns } = new ChartData().lrTable(stateOf(3));
    expect(x).toEqual([0, 1, 2]);
    expect(columns[0]).toEqual([0.001, 0.001, 0.001]);
  });
});
