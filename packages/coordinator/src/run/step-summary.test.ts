import type { StepDoneMsg } from '@gradsync/protocol';
import { describe, expect, it } from 'vitest';
import { previewIndices } from './evaluation';
import { divergedRanks, summarizeStep } from './step-summary';

const doneMsg = (fields: Partial<StepDoneMsg>): StepDoneMsg => ({
  type: 'step-done',
  op: 1,
  step: 0,
  loss: 1,
  correct: 0,
  count: 32,
  applied: true,
  computeMs: 10,
  allreduceMs: 1,
  waitMs: 0,
  ...fields,
});

describe('summarizeStep', () => {
  it('weights the loss by samples, sums the correct answers, orders the ranks', () => {
    const s = summarizeStep([
      [1, doneMsg({ loss: 2, correct: 10, count: 16 })],
      [0, doneMsg({ loss: 1, correct: 20, count: 48, cpuPercent: 90 })],
    ]);
    expect(s.workers.map((w) => w.rank)).toEqual([0, 1]);
    expect(s.samples).toBe(64);
    expect(s.loss).toBeCloseTo((1 * 48 + 2 * 16) / 64, 12);
    expect(s.correct).toBe(30);
    expect(s.applied).toBe(true);
    expect(s.workers[0]?.cpuPercent).toBe(90);
  });

  it('not applied when any rank skipped the update; an empty set of answers is loss 0', () => {
    expect(
      summarizeStep([
        [0, doneMsg({})],
        [1, doneMsg({ applied: false })],
      ]).applied,
    ).toBe(false);
    expect(summarizeStep([])).toMatchObject({ samples: 0, loss: 0, correct: 0 });
  });
});

describe('divergedRanks', () => {
  it("names the ranks whose hash differs from rank 0's", () => {
    expect(
      divergedRanks(
        new Map([
          [0, 'aa'],
          [1, 'aa'],
        ]),
      ).differ,
    ).toEqual([]);
    expect(
      divergedRanks(
        new Map([
          [0, 'aa'],
          [1, 'bb'],
          [2, 'aa'],
        ]),
      ),
    ).toEqual({ reference: 'aa', differ: [{ rank: 1, hash: 'bb' }] });
  });
});

describe('previewIndices', () => {
  it('spreads at most 16 previews evenly over the split', () => {
    expect(previewIndices(4)).toEqual([0, 1, 2, 3]);
    expect(previewIndices(160)).toEqual(Array.from({ length: 16 }, (_, i) => i * 10));
    expect(previewIndices(0)).toEqual([]);
  });
});
