import type { WorkerStepStats } from '@gradsync/metrics';
import { describe, expect, it } from 'vitest';
import { stragglerOf } from './straggler';

const worker = (rank: number, fields: Partial<WorkerStepStats>): WorkerStepStats => ({
  rank,
  loss: 1,
  correct: 0,
  count: 32,
  computeMs: 10,
  allreduceMs: 1,
  waitMs: 2,
  ...fields,
});

describe('stragglerOf', () => {
  it('names the rank whose gradient took longest, and how long it held the next slowest', () => {
    const s = stragglerOf({
      step: 7,
      samples: 64,
      workers: [
        worker(0, { computeMs: 80, gradientMs: 70, share: 0.75, count: 48 }),
        worker(1, { computeMs: 230, gradientMs: 220, share: 0.25, count: 16, waitMs: 3 }),
        worker(2, { computeMs: 100, gradientMs: 95, share: 0, count: 0 }),
      ],
    });
    expect(s).toEqual({ step: 7, rank: 1, computeMs: 220, othersMs: 95, heldMs: 125, share: 0.25, waitMs: 3 });
  });

  it('falls back to compute time and to count / samples for records without them', () => {
    const s = stragglerOf({ step: 1, samples: 64, workers: [worker(0, { computeMs: 50, count: 40 }), worker(1, { computeMs: 20, count: 24 })] });
    expect(s).toMatchObject({ rank: 0, computeMs: 50, othersMs: 20, heldMs: 30, share: 40 / 64 });
  });

  it('has nobody to name with one rank or on a recovered step', () => {
    expect(stragglerOf({ step: 1, samples: 64, workers: [worker(0, {})] })).toBeNull();
    expect(stragglerOf({ step: 1, samples: 64, recovered: true, workers: [worker(0, {}), worker(1, {})] })).toBeNull();
  });
});
