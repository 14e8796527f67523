import { encode, parseWorkerMessage, type StepDoneMsg } from '@gradsync/protocol';
import { describe, expect, it } from 'vitest';
import { workerStepStats } from './worker-step-stats';

const parse = (m: object) =>
  parseWorkerMessage(
    encode({ type: 'step-done', step: 4, op: 1, loss: 0.7, correct: 5, count: 8, computeMs: 12, allreduceMs: 3, waitMs: 1, applied: true, ...m }),
  ) as StepDoneMsg;

describe('workerStepStats', () => {
  it('copies the figures of a decoded step-done, resources included', () => {
    expect(workerStepStats(2, parse({ cpuPercent: 95.5, rssBytes: 300_000_000, gpuBytes: 1024 }))).toEqual({
      rank: 2,
      loss: 0.7,
      correct: 5,
      count: 8,
      computeMs: 12,
      allreduceMs: 3,
      waitMs: 1,
      cpuPercent: 95.5,
      rssBytes: 300_000_000,
      gpuBytes: 1024,
    });
  });

  it('leaves resource fields out (not undefined in the JSON) for a worker that sent none', () => {
    expect(Object.keys(workerStepStats(0, parse({})))).toEqual(['rank', 'loss', 'correct', 'count', 'computeMs', 'allreduceMs', 'waitMs']);
  });
});
