import { describe, expect, it } from 'vitest';
import { computeProgress, recentStepRate } from './eta';

describe('recentStepRate', () => {
  it('counts intervals over elapsed time in the window', () => {
    expect(recentStepRate([0, 500, 1000, 1500])).toBeCloseTo(2);
    // only the last 3 timestamps: 2 intervals in 200 ms
    expect(recentStepRate([0, 10_000, 10_100, 10_200], 3)).toBeCloseTo(10);
  });

  it('is null without two distinct timestamps', () => {
    expect(recentStepRate([])).toBeNull();
    expect(recentStepRate([5])).toBeNull();
    expect(recentStepRate([5, 5])).toBeNull();
  });
});

describe('computeProgress', () => {
  it('gives fractions and times left for the epoch and the run', () => {
    const p = computeProgress({ stepsPerEpoch: 100, epochs: 4, epochIndex: 1, stepsIntoEpoch: 25, stepsPerSec: 5, epochsFinished: 1 });
    expect(p.epochFraction).toBeCloseTo(0.25);
    expect(p.runFraction).toBeCloseTo(125 / 400);
    expect(p.etaEpochSec).toBeCloseTo(75 / 5);
    expect(p.etaRunSec).toBeCloseTo(275 / 5);
  });

  it('clamps steps into the epoch and has no ETA without a rate', () => {
    const p = computeProgress({ stepsPerEpoch: 10, epochs: 2, epochIndex: 0, stepsIntoEpoch: 50, stepsPerSec: null, epochsFinished: 0 });
    expect(p.stepsIntoEpoch).toBe(10);
    expect(p.epochFraction).toBe(1);
    expect(p.etaEpochSec).toBeNull();
    expect(p.etaRunSec).toBeNull();
  });

  it('has no run fraction without a total epoch count', () => {
    const p = computeProgress({ stepsPerEpoch: 10, epochs: null, epochIndex: 3, stepsIntoEpoch: 5, stepsPerSec: 1, epochsFinished: 3 });
    expect(p.runFraction).toBeNull();
    expect(p.etaRunSec).toBeNull();
    expect(p.etaEpochSec).toBeCloseTo(5);
  });

  it('is complete once every epoch has finished', () => {
    const p = computeProgress({ stepsPerEpoch: 10, epochs: 2, epochIndex: 1, stepsIntoEpoch: 10, stepsPerSec: 3, epochsFinished: 2 });
    expect(p.runFraction).toBe(1);
    expect(p.etaRunSec).toBe(0);
  });
});
