import { describe, expect, it } from 'vitest';
import type { StepRecord } from '@gradsync/metrics';
import { steadyState } from './steady-state';

function step(stepIndex: number, ms: number, workers: [number, number, number][]): StepRecord {
  const count = 64 / workers.length;
  return {
    kind: 'step',
    t: 0,
    step: stepIndex,
    epoch: 0,
    loss: 1,
    accuracy: 0.5,
    samples: 64,
    lr: 1e-3,
    imagesPerSec: (64 * 1000) / ms,
    workers: workers.map(([computeMs, allreduceMs, waitMs], rank) => ({ rank, loss: 1, correct: 0, count, computeMs, allreduceMs, waitMs })),
  };
}

describe('steadyState', () => {
  const records = [
    step(0, 2000, [
      [1900, 50, 50],
      [1950, 40, 10],
    ]), // warm-up: slow
    step(1, 400, [
      [350, 30, 20],
      [360, 20, 20],
    ]),
    step(2, 200, [
      [170, 10, 20],
      [175, 5, 20],
    ]),
    step(3, 200, [
      [170, 10, 20],
      [175, 5, 20],
    ]),
    step(4, 100, [
      [80, 10, 10],
      [90, 5, 5],
    ]),
  ];

  it('skips the warm-up steps and takes medians of the rest', () => {
    const s = steadyState(records, 1);
    expect(s.steps).toBe(4);
    expect(s.globalBatch).toBe(64);
    // per-step img/s: 160, 320, 320, 640 -> median 320
    expect(s.medianImagesPerSec).toBeCloseTo(320, 9);
    // 256 images in 900 ms
    expect(s.meanImagesPerSec).toBeCloseTo((256 * 1000) / 900, 9);
    expect(s.medianStepMs).toBeCloseTo(200, 9);
    expect(s.ranks).toEqual([
      { rank: 0, samples: 32, computeMs: 170, allreduceMs: 10, waitMs: 20 },
      { rank: 1, samples: 32, computeMs: 175, allreduceMs: 5, waitMs: 20 },
    ]);
    // per step least all-reduce / step: 20/400, 5/200, 5/200, 5/100 -> 0.05, 0.025, 0.025, 0.05
    expect(s.allreduceShare).toBeCloseTo((0.025 + 0.05) / 2, 9);
  });

  it('orders steps by index before skipping', () => {
    expect(steadyState([...records].reverse(), 1).steps).toBe(4);
    expect(steadyState([...records].reverse(), 1).medianImagesPerSec).toBeCloseTo(320, 9);
  });

  it('is an error when no step is left', () => {
    expect(() => steadyState(records, 5)).toThrow(/none left after 5 warm-up steps/);
  });
});
