import { indicesFromBytes, type WorkerMessage } from '@gradsync/protocol';
import { describe, expect, it } from 'vitest';
import { fakeMember } from './fake-member';
import { ReplyCollector } from './reply-collector';
import { answersSoFar, mayOrderAhead, sendStepOrders } from './step-orders';

const done = (step: number, op: number): WorkerMessage => ({
  type: 'step-done',
  step,
  op,
  loss: 1,
  correct: 0,
  count: 2,
  computeMs: 1,
  allreduceMs: 1,
  waitMs: 0,
  applied: true,
});

const plan = (step: number) => ({ step, epoch: 0, lr: 0.01, reportHash: false, batch: Uint32Array.from({ length: 4 }, (_, i) => 10 * step + i) });

describe('mayOrderAhead (Note [Orders ahead])', () => {
  const base = { step: 3, stepsPerEpoch: 10, totalSteps: 30, reportHash: false, grouped: true, joinersReady: 0 };

  it('orders the next step ahead inside an epoch of a whole group', () => {
    expect(mayOrderAhead(base)).toBe(true);
    expect(mayOrderAhead({ ...base, step: 8 })).toBe(true); // step 9 is still epoch 0's
  });

  it('not across an epoch end, past the run, after a hash check, with a joiner waiting, or with the group broken', () => {
    expect(mayOrderAhead({ ...base, step: 9 })).toBe(false);
    expect(mayOrderAhead({ ...base, step: 29 })).toBe(false);
    expect(mayOrderAhead({ ...base, step: 3, totalSteps: 4 })).toBe(false);
    expect(mayOrderAhead({ ...base, reportHash: true })).toBe(false);
    expect(mayOrderAhead({ ...base, joinersReady: 1 })).toBe(false);
    expect(mayOrderAhead({ ...base, grouped: false })).toBe(false);
  });
});

describe('sendStepOrders', () => {
  it("sends each member its shard of the global batch, and gathers that operation's answers only", async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const ordered = sendStepOrders(replies, [a, b], [3, 1], plan(2), 7, 60_000);
    const [ma, mb] = [a.sent[0], b.sent[0]];
    expect(ma.type === 'step' && [...indicesFromBytes(ma.indices)]).toEqual([20, 21, 22]);
    expect(mb.type === 'step' && [...indicesFromBytes(mb.indices)]).toEqual([23]);
    expect(ma).toMatchObject({ step: 2, op: 7, globalCount: 4, lr: 0.01, reportHash: false });
    replies.accept(a, done(2, 6)); // another operation's answer is not this step's
    replies.accept(a, done(2, 7));
    replies.accept(b, done(2, 7));
    const got = await ordered.answers;
    expect(got.ok).toBe(true);
    expect([...answersSoFar(got).values()].map((m) => m.type === 'step-done' && m.op)).toEqual([7, 7]);
    expect(ordered).toMatchObject({ step: 2, op: 7, samples: 4, counts: [3, 1] });
  });

  it('with a step ordered ahead, an answer to it that comes before the first step ends is kept for it', async () => {
    const replies = new ReplyCollector();
    const a = fakeMember(0);
    const first = sendStepOrders(replies, [a], [4], plan(0), 1, 60_000);
    const second = sendStepOrders(replies, [a], [4], plan(1), 2, 60_000);
    replies.accept(a, done(0, 1));
    replies.accept(a, done(1, 2));
    expect((await first.answers).ok).toBe(true);
    const got = await second.answers;
    expect(got.ok && got.answers.get(a)?.type).toBe('step-done');
  });

  it('a group that breaks with two steps in flight ends both waits, each with the answers it had', async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const first = sendStepOrders(replies, [a, b], [2, 2], plan(0), 1, 60_000);
    const ahead = sendStepOrders(replies, [a, b], [2, 2], plan(1), 2, 60_000);
    replies.accept(a, done(0, 1));
    replies.interruptAll('rank 1 left');
    const [g1, g2] = [await first.answers, await ahead.answers];
    expect([g1.ok, g2.ok]).toEqual([false, false]);
    expect([...answersSoFar(g1).keys()]).toEqual([a]);
    expect(answersSoFar(g2).size).toBe(0);
  });

  it('a run that fails with a step ordered ahead leaves no unhandled rejection; the wait still rejects when awaited', async () => {
    const replies = new ReplyCollector();
    const ahead = sendStepOrders(replies, [fakeMember(0)], [4], plan(1), 2, 60_000);
    replies.failAll(new Error('stopped'));
    await new Promise((r) => setTimeout(r, 0));
    await expect(ahead.answers).rejects.toThrow('stopped');
  });
});
