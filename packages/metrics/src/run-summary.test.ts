import type { EpochRecord, EvalSummary, MetricRecord } from './records';
import { describe, expect, it } from 'vitest';
import { summarizeRun } from './run-summary';

const ev = (accuracy: number): EvalSummary => ({ loss: 1 - accuracy, accuracy, count: 10, confusion: [] });
const run = (t: number): MetricRecord => ({
  kind: 'run',
  t,
  runName: 'a',
  classNames: [],
  trainCount: 1,
  validationCount: 1,
  testCount: 1,
  stepsPerEpoch: 1,
  config: { model: 'seed-cnn', epochs: 3, batchSize: 64, lr: 0.001 },
});
const worker = (t: number, rank: number, backend: string): MetricRecord => ({
  kind: 'worker',
  t,
  rank,
  host: 'h',
  pid: 1,
  backend,
  device: 'cpu',
  status: 'training',
});
const step = (t: number, ranks: number): MetricRecord => ({
  kind: 'step',
  t,
  step: 0,
  epoch: 0,
  loss: 1,
  accuracy: 0.5,
  samples: 64,
  lr: 0.001,
  imagesPerSec: 100,
  workers: Array.from({ length: ranks }, (_, rank) => ({ rank, loss: 1, correct: 1, count: 1, computeMs: 1, allreduceMs: 0, waitMs: 0 })),
});
const epoch = (t: number, e: number, val: number, test: number | null, ips: number): EpochRecord => ({
  kind: 'epoch',
  t,
  epoch: e,
  step: e + 1,
  trainLoss: 1,
  trainAccuracy: 0.5,
  validation: ev(val),
  test: test === null ? null : ev(test),
  lr: 0.001,
  nextLr: 0.001,
  durationSec: 10,
  imagesPerSec: ips,
});

describe('summarizeRun', () => {
  it('takes the configuration, the best validation, the final test, the workers and the backends', () => {
    const records = [
      run(0),
      worker(1, 0, 'onednn'),
      worker(1, 1, 'wasm'),
      step(2, 2),
      epoch(10, 0, 0.4, 0.38, 100),
      epoch(20, 1, 0.6, 0.55, 300),
      epoch(30, 2, 0.5, 0.5, 200),
      { kind: 'end', t: 40, status: 'completed', epochs: 3, steps: 3, wallSec: 41.5, test: ev(0.52) } as MetricRecord,
    ];
    expect(summarizeRun('a', records)).toEqual({
      name: 'a',
      model: 'seed-cnn',
      epochsDone: 3,
      epochsPlanned: 3,
      batchSize: 64,
      lr: 0.001,
      workers: 2,
      backend: 'onednn, wasm',
      finalTestAccuracy: 0.52,
      bestValidationAccuracy: 0.6,
      wallSec: 41.5,
      imagesPerSec: 200,
      status: 'completed',
      startedAt: 0,
    });
  });

  it('adds up the sessions of a resumed run, counts a repeated epoch once, and is running again after a resume', () => {
    const records = [
      run(0),
      epoch(10, 0, 0.4, null, 100),
      { kind: 'end', t: 11, status: 'stopped', epochs: 3, steps: 1, wallSec: 11, test: null } as MetricRecord,
      run(100),
      epoch(110, 0, 0.45, 0.41, 100),
      { kind: 'end', t: 111, status: 'failed', epochs: 3, steps: 1, wallSec: 12, test: null } as MetricRecord,
      run(200),
      step(201, 1),
    ];
    const s = summarizeRun('b', records);
    expect(s.epochsDone).toBe(1);
    expect(s.bestValidationAccuracy).toBe(0.45);
    expect(s.finalTestAccuracy).toBe(0.41);
    expect(s.wallSec).toBe(23);
    expect(s.status).toBe('running');
    expect(s.backend).toBeNull();
  });

  it('has nulls, not made-up figures, for a run with no records yet', () => {
    expect(summarizeRun('c', [])).toMatchObject({ model: null, epochsDone: 0, finalTestAccuracy: null, wallSec: null, imagesPerSec: null, status: 'running' });
  });
});
