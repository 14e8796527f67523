import type { MetricRecord } from '@gradsync/metrics';
import { describe, expect, it } from 'vitest';
import { epochRecord, runRecord, stepRecord } from '../view-kit/fixtures';
import { evenIndices, overlayTable } from './overlay';
import { runCurves } from './run-curves';

/** fixtures: 10 steps an epoch, t = 2000 + 500 × step. */
function run(steps: number, over: { lossScale?: number; t0?: number } = {}): MetricRecord[] {
  const shift = over.t0 ?? 0;
  const out: MetricRecord[] = [{ ...runRecord({ stepsPerEpoch: 10 }), t: 1000 + shift }];
  for (let s = 0; s < steps; s++) {
    const r = stepRecord(s);
    out.push({ ...r, t: r.t + shift, loss: r.loss * (over.lossScale ?? 1) });
    if ((s + 1) % 10 === 0) {
      const e = epochRecord((s + 1) / 10 - 1);
      out.push({ ...e, step: s + 1, t: r.t + shift + 100 });
    }
  }
  return out;
}

describe('runCurves', () => {
  it('gives every point its step, epochs done and seconds of running', () => {
    const c = runCurves('a', run(20));
    expect(c.steps).toHaveLength(20);
    expect(c.steps[4]).toMatchObject({ step: 4, epoch: 0.5, wall: (stepRecord(4).t - 1000) / 1000 });
    expect(c.validation.map((p) => [p.step, p.epoch])).toEqual([
      [10, 1],
      [20, 2],
    ]);
  });

  it('replaces repeated steps of a resumed run and leaves the pause out of wall time', () => {
    const first = run(15);
    // Resumed an hour later from the checkpoint at step 10.
    const hour = 3_600_000;
    const second = run(20, { t0: hour, lossScale: 0.5 }).filter((r) => r.kind === 'run' || ('step' in r && r.step >= 10 && r.kind === 'step'));
    const c = runCurves('a', [...first, ...second]);
    expect(c.steps.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(c.steps[12].loss).toBe(stepRecord(12).loss * 0.5);
    const ranFirst = (first.at(-1)!.t - 1000) / 1000;
    expect(c.steps[10].wall).toBeCloseTo(ranFirst + (stepRecord(10).t - 1000) / 1000, 6);
  });
});

describe('overlayTable', () => {
  it('puts each run in its own pair of columns, on the chosen x, smoothed or not', () => {
    const a = runCurves('a', run(20));
    const b = runCurves('b', run(10, { lossScale: 2 }));
    const t = overlayTable([a, b], 'loss', 'step', 0);
    expect(t.columns).toHaveLength(4);
    // Rows at x = 10 and 20 also carry the validation points.
    expect(t.x).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(t.columns[0][3]).toBe(stepRecord(3).loss);
    expect(t.columns[2][3]).toBe(stepRecord(3).loss * 2);
    expect(t.columns[2][15]).toBeNull();
    expect(t.columns[1][10]).toBe(epochRecord(0).validation!.loss);
    const byEpoch = overlayTable([a], 'accuracy', 'epoch', 0);
    expect(byEpoch.x[0]).toBe(0.1);
    expect(byEpoch.x.at(-1)).toBe(2);
  });

  it('thins long runs to the point budget', () => {
    const t = overlayTable([runCurves('a', run(400))], 'loss', 'step', 0.6, 100);
    // 100 training points plus the 40 validation points (at steps that may or may not coincide).
    expect(t.x.length).toBeGreaterThanOrEqual(100);
    expect(t.x.length).toBeLessThanOrEqual(140);
    expect(t.x[0]).toBe(0);
    expect(t.x.at(-1)).toBe(400);
  });

  it('spaces the kept points evenly, first and last included', () => {
    expect(evenIndices(5, 10)).toEqual([0, 1, 2, 3, 4]);
    expect(evenIndices(101, 5)).toEqual([0, 25, 50, 75, 100]);
  });
});
