import type { EvalDoneMsg } from '@gradsync/protocol';
import { describe, expect, it } from 'vitest';
import { evaluateSharded } from './evaluation';
import { fakeMember } from './fake-member';
import { ReplyCollector } from './reply-collector';

const confusion = (cell: number, n: number) => Array.from({ length: 100 }, (_, i) => (i === cell ? n : 0));
const evalDone = (evalId: number, lossSum: number, correct: number, count: number, cell: number): EvalDoneMsg => ({
  type: 'eval-done',
  evalId,
  lossSum,
  correct,
  count,
  confusion: confusion(cell, count),
});

describe('evaluateSharded', () => {
  it('gives each rank a contiguous shard and adds their sums exactly', async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const result = evaluateSharded(replies, [a, b], { evalId: 7, split: 'test', count: 101, counts: [51, 50], previewFrom: null, deadlineMs: 60_000 });
    expect(a.sent).toEqual([{ type: 'eval', evalId: 7, split: 'test', start: 0, end: 51, preview: undefined }]);
    expect(b.sent).toEqual([{ type: 'eval', evalId: 7, split: 'test', start: 51, end: 101, preview: undefined }]);
    replies.accept(b, evalDone(7, 25, 20, 50, 11));
    replies.accept(a, evalDone(7, 51, 30, 51, 0));
    const r = await result;
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.summary).toMatchObject({ loss: 76 / 101, accuracy: 50 / 101, count: 101 });
      expect(r.summary.confusion[0]).toBe(51);
      expect(r.summary.confusion[11]).toBe(50);
      expect(r.preview).toBeNull();
    }
  });

  it('cuts the split by the given counts (the speed split)', () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    void evaluateSharded(replies, [a, b], { evalId: 9, split: 'test', count: 100, counts: [80, 20], previewFrom: null, deadlineMs: 60_000 });
    expect([a.sent[0], b.sent[0]]).toMatchObject([
      { start: 0, end: 80 },
      { start: 80, end: 100 },
    ]);
    replies.interruptAll('done');
  });

  it('a member leaving during evaluation ends it with { ok: false } (the caller regroups and evaluates again)', async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const result = evaluateSharded(replies, [a, b], { evalId: 8, split: 'validation', count: 10, counts: [5, 5], previewFrom: null, deadlineMs: 60_000 });
    replies.accept(a, evalDone(8, 5, 5, 5, 0));
    replies.interruptAll('rank 1 left');
    expect(await result).toEqual({ ok: false, reason: 'rank 1 left', partial: expect.any(Map) });
  });
});
