import { afterEach, describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { rankOrderSum } from '@gradsync/core/allreduce';
import { encodeFrameHeader } from '@gradsync/core/protocol';
import { StarAllReducer, type FrameChannel } from './star-all-reducer';
import { randomInputs, sameBytes, starGroup } from './test-support';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** An in-memory channel: what the reducer sends is recorded; the test plays the coordinator. */
function fakeChannel() {
  const sent: Uint8Array[] = [];
  let deliver: (frame: Uint8Array) => void = () => {};
  let closeCb: (reason: string) => void = () => {};
  const closedWith: string[] = [];
  const channel: FrameChannel = {
    send: (f) => sent.push(f),
    onFrame: (cb) => (deliver = cb),
    onClose: (cb) => (closeCb = cb),
    close: (reason) => closedWith.push(reason),
  };
  return { channel, sent, deliver: (f: Uint8Array) => deliver(f), hangUp: (r: string) => closeCb(r), closedWith };
}

async function rejection(p: Promise<unknown>): Promise<GradsyncError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GradsyncError);
    return err as GradsyncError;
  }
  throw new Error('expected the promise to reject');
}

describe('StarAllReducer', () => {
  it('sums through a hub over WebSocket: rank-ordered, bit-identical on every rank, in place', async () => {
    const group = await starGroup(3);
    cleanup.push(() => group.close());
    for (const [op, length] of [[1, 0], [2, 5], [3, 50_000]] as const) {
      const xs = randomInputs(3, length, op);
      const inputs = xs.map((x) => Float32Array.from(x));
      const out = await Promise.all(group.reducers.map((r, rank) => r.allReduceSum(inputs[rank], op)));
      out.forEach((o, rank) => expect(o).toBe(inputs[rank]));
      for (const o of out) expect(sameBytes(o, rankOrderSum(xs))).toBe(true);
    }
  });

  it('sends a header then the raw float bytes as a view of the caller’s array', () => {
    const { channel, sent } = fakeChannel();
    const reducer = new StarAllReducer({ rank: 1, world: 2, channel });
    const data = new Float32Array([1, 2]);
    void reducer.allReduceSum(data, 4).catch(() => {});
    expect(sent).toHaveLength(2);
    expect(sent[0][0]).toBe(0xc1);
    expect(sent[1].buffer).toBe(data.buffer);
    void reducer.close();
  });

  it('rejects with a clear error on garbage from the coordinator and closes the channel', async () => {
    const cases: [Uint8Array[], RegExp][] = [
      [[new Uint8Array([1, 2, 3])], /header must be 24 bytes/],
      [[encodeFrameHeader({ kind: 'star-result', opId: 8, rank: 0, floatCount: 2 }), new Uint8Array(8)], /op 8, which rank 0 is not running/],
      [[encodeFrameHeader({ kind: 'star-result', opId: 7, rank: 0, floatCount: 3 }), new Uint8Array(12)], /3 floats, expected 2/],
      [[encodeFrameHeader({ kind: 'star-contribution', opId: 7, rank: 1, floatCount: 2 }), new Uint8Array(8)], /expected a star-result/],
      [[encodeFrameHeader({ kind: 'star-result', opId: 7, rank: 0, floatCount: 2 }), new Uint8Array(7)], /payload has 7 bytes/],
    ];
    for (const [frames, message] of cases) {
      const fake = fakeChannel();
      const reducer = new StarAllReducer({ rank: 0, world: 2, channel: fake.channel });
      const pending = rejection(reducer.allReduceSum(new Float32Array(2), 7));
      for (const f of frames) fake.deliver(f);
      const err = await pending;
      expect(err.code).toBe('E_PROTOCOL');
      expect(err.message).toMatch(message);
      expect(fake.closedWith).toHaveLength(1);
      // Unusable afterwards, with the same reason.
      expect((await rejection(reducer.allReduceSum(new Float32Array(2), 9))).message).toBe(err.message);
    }
  });

  it('rejects when the channel closes, on timeout, and after close()', async () => {
    const a = fakeChannel();
    const closedLink = rejection(new StarAllReducer({ rank: 0, world: 2, channel: a.channel }).allReduceSum(new Float32Array(1), 1));
    a.hangUp('code 1006');
    expect((await closedLink).message).toMatch(/channel to the coordinator closed \(code 1006\)/);

    const slow = new StarAllReducer({ rank: 0, world: 2, channel: fakeChannel().channel, timeoutMs: 50 });
    const timedOut = await rejection(slow.allReduceSum(new Float32Array(1), 3));
    expect(timedOut.code).toBe('E_ALLREDUCE_TIMEOUT');
    expect(timedOut.message).toMatch(/op 3 on rank 0: no result from the coordinator within 50 ms/);

    const closing = new StarAllReducer({ rank: 0, world: 2, channel: fakeChannel().channel });
    const pending = rejection(closing.allReduceSum(new Float32Array(1), 1));
    await closing.close();
    expect((await pending).code).toBe('E_ALLREDUCE_CLOSED');
  });

  it('a world of one returns its input without using the channel', async () => {
    const fake = fakeChannel();
    const x = new Float32Array([3]);
    expect(await new StarAllReducer({ rank: 0, world: 1, channel: fake.channel }).allReduceSum(x, 0)).toBe(x);
    expect(fake.sent).toHaveLength(0);
  });
});
