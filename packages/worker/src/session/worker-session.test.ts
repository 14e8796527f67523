/**
 * WorkerSession driven message by message with a fake coordinator link and a fake ring: the
 * phases, the star client inside a step, aborts, timeouts and members leaving, with no sockets.
 * The replica is real (the 'linear' model on tfjs's cpu backend: a step takes milliseconds).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { selectBackend } from '@gradsync/backends';
import { SEED_RECIPE, Replica } from '@gradsync/train';
import { type CoordinatorMessage, datasetChecksum, floatsFromBytes, floatsToBytes, indicesToBytes, type WorkerMessage } from '@gradsync/protocol';
import type { AllReducer } from '@gradsync/collective';
import type { CoordinatorLink } from '../coordinator-link';
import { type RingProvider, WorkerSession } from './worker-session';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

const TRAIN = 8;
const TEST = 4;

function dataset() {
  const train = { images: new Uint8Array(TRAIN * 3072).map((_, i) => i % 251), labels: Uint8Array.from({ length: TRAIN }, (_, i) => i % 10), count: TRAIN };
  const test = { images: new Uint8Array(TEST * 3072).map((_, i) => i % 13), labels: Uint8Array.from({ length: TEST }, (_, i) => i % 10), count: TEST };
  return { train, test };
}

type Sent<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** A session attached to a fake link; the test plays the coordinator. */
function harness(options: { ringReducer?: AllReducer; starTimeoutMs?: number } = {}) {
  const sent: WorkerMessage[] = [];
  const logs: string[] = [];
  let hangUp: (end: { code: number; reason: string }) => void = () => {};
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (hangUp = resolve));
  const link: CoordinatorLink = { send: (m) => sent.push(m), close: (code = 1000, reason = '') => hangUp({ code, reason }), closed };
  const ring: RingProvider = {
    peerUrl: null,
    prepare: async () => 'ws://127.0.0.1:1',
    join: async () => options.ringReducer ?? Promise.reject(new Error('no ring in this test')),
  };
  const session = new WorkerSession({
    ring,
    log: (line) => logs.push(line),
    identity: { host: 'test-host', pid: 1 },
    backend: 'cpu',
    device: 'test',
    starTimeoutMs: options.starTimeoutMs,
  });
  session.attach(link);
  const deliver = (m: CoordinatorMessage) => session.onMessage(m);
  /** The next message of `type` sent after `from` messages. */
  const waitFor = async <T extends WorkerMessage['type']>(type: T, from = 0): Promise<Sent<T>> => {
    let found: WorkerMessage | undefined;
    await vi.waitFor(
      () => {
        found = sent.slice(from).find((m) => m.type === type);
        if (!found) throw new Error(`no ${type} yet (sent: ${sent.map((m) => m.type).join(', ')})`);
      },
      { timeout: 10_000, interval: 5 },
    );
    return found as Sent<T>;
  };

  /** Welcome and the whole data set: the session is then ready for a group. */
  const join = async () => {
    const data = dataset();
    const config = { ...SEED_RECIPE, runName: 'unit', model: 'linear', validationCount: 2 };
    const info = datasetInfo(datasetChecksum(data));
    deliver({ type: 'welcome', v: 1, runId: 'run-1', rank: 0, config, dataset: info });
    deliver({ type: 'data', part: 'train-images', offset: 0, data: data.train.images });
    deliver({ type: 'data', part: 'train-labels', offset: 0, data: data.train.labels });
    deliver({ type: 'data', part: 'test-images', offset: 0, data: data.test.images });
    deliver({ type: 'data', part: 'test-labels', offset: 0, data: data.test.labels });
    await waitFor('ready');
  };
  const group = async (algorithm: 'ring' | 'star', world: number, groupId = 1) => {
    const from = sent.length;
    deliver({ type: 'group', algorithm, rank: 0, world, peers: [], groupId });
    await waitFor('ready', from);
  };
  const step = (op: number, step = 0) =>
    deliver({ type: 'step', step, epoch: 0, lr: 1e-3, indices: indicesToBytes(Uint32Array.from([0, 1, 2])), globalCount: 6, op, reportHash: true });
  return { session, sent, logs, deliver, waitFor, join, group, step, hangUp };
}

/** What the coordinator's relay would answer: the part doubled, as if a second rank sent the same. */
function doubled(part: Sent<'star-part'>): Uint8Array {
  return floatsToBytes(floatsFromBytes(part.data).map((x) => 2 * x));
}

/** The welcome's description of the unit test's data set. */
function datasetInfo(checksum: string) {
  return {
    trainCount: TRAIN,
    testCount: TEST,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    shape: { height: 32, width: 32, channels: 3 as const },
    labelBytes: 1 as const,
    checksum,
    source: 'unit test',
  };
}

describe('WorkerSession', () => {
  it("checks the welcome message's run configuration with the command line's checks: a bad field is a failure that names it", async () => {
    const h = harness();
    const info = datasetInfo('x');
    h.deliver({ type: 'welcome', v: 1, runId: 'run-1', rank: 0, config: { ...SEED_RECIPE, runName: 'unit', batchSize: -3 }, dataset: info });
    const failure = await h.waitFor('failure');
    expect(failure.message).toMatch(/batch size must be an integer ≥ 1, got -3/);
    expect(h.session.phaseName).toBe('ended');
  });

  it('goes connecting → receiving-data → ready → in-group, saying hello and ready on the way', async () => {
    const h = harness();
    expect(h.session.phaseName).toBe('connecting');
    expect(h.sent[0]).toMatchObject({ type: 'hello', v: 1, backend: 'cpu', device: 'test', peerUrl: null });
    await h.join();
    expect(h.session.phaseName).toBe('ready');
    await h.group('star', 2);
    expect(h.session.phaseName).toBe('in-group');
    expect(h.sent.filter((m) => m.type === 'ready')).toEqual([
      { type: 'ready', phase: 'data' },
      { type: 'ready', phase: 'group', groupId: 1 },
    ]);
  });

  it('star step: sends its part, applies the sum that comes back and reports the step', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.step(5);
    const part = await h.waitFor('star-part');
    expect(part.op).toBe(5);
    h.deliver({ type: 'star-sum', op: 5, data: doubled(part) });
    const done = await h.waitFor('step-done');
    expect(done).toMatchObject({ step: 0, op: 5, applied: true, count: 3 });
    expect(done.hash).toEqual(expect.any(String));
    // The step's traffic: its gradient up, the sum down.
    expect([done.sentBytes, done.receivedBytes]).toEqual([part.data.byteLength, part.data.byteLength]);
  });

  it('abort mid-step: the step waiting on its sum reports step-aborted at once, and the session leaves the group', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.step(5);
    await h.waitFor('star-part');
    h.deliver({ type: 'abort', reason: 'rank 1 left' });
    const aborted = await h.waitFor('step-aborted');
    expect(aborted).toMatchObject({ step: 0, op: 5, reason: expect.stringMatching(/closed/) });
    expect(h.session.phaseName).toBe('ready');
    expect(h.sent.some((m) => m.type === 'step-done')).toBe(false);
    // A sum for the abandoned operation is dropped, not applied.
    h.deliver({ type: 'star-sum', op: 5, data: new Uint8Array(8) });
    expect(h.logs.at(-1)).toMatch(/op 5 dropped: no star group/);
  });

  it('an order sent ahead and queued behind an abort is answered step-aborted without computing (Note [Orders ahead])', async () => {
    const computed = vi.spyOn(Replica.prototype, 'computeStep');
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.step(5, 0);
    h.step(6, 1); // step 1's orders, sent ahead: queued until step 0 ends
    await h.waitFor('star-part');
    h.deliver({ type: 'abort', reason: 'rank 1 left' });
    await vi.waitFor(() => expect(h.sent.filter((m) => m.type === 'step-aborted')).toHaveLength(2), { timeout: 10_000, interval: 5 });
    const aborted = h.sent.filter((m) => m.type === 'step-aborted');
    expect(aborted.map((m) => [m.step, m.op])).toEqual([
      [0, 5],
      [1, 6],
    ]);
    expect(aborted[1].reason).toMatch(/no all-reduce group \(rank 1 left\)/);
    // Step 1 was never computed, and nothing was applied.
    expect(computed).toHaveBeenCalledTimes(1);
    computed.mockRestore();
    expect(h.sent.filter((m) => m.type === 'star-part').map((m) => m.op)).toEqual([5]);
    expect(h.session.appliedStep).toBe(-1);
  });

  it('orders sent ahead run back to back, in order, each applied once', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.step(5, 0);
    h.step(6, 1);
    const first = await h.waitFor('star-part');
    h.deliver({ type: 'star-sum', op: 5, data: doubled(first) });
    const from = h.sent.indexOf(first) + 1;
    const second = await h.waitFor('star-part', from);
    expect(second.op).toBe(6);
    h.deliver({ type: 'star-sum', op: 6, data: doubled(second) });
    await vi.waitFor(() => expect(h.session.appliedStep).toBe(1), { timeout: 10_000, interval: 5 });
    expect(h.sent.filter((m) => m.type === 'step-done').map((m) => [m.step, m.op])).toEqual([
      [0, 5],
      [1, 6],
    ]);
  });

  it('a sum that arrives before its step is dropped; the step then waits for its own', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.deliver({ type: 'star-sum', op: 5, data: new Uint8Array(8) });
    expect(h.logs.at(-1)).toMatch(/op 5 dropped: the client is idle/);
    h.step(5);
    const part = await h.waitFor('star-part');
    h.deliver({ type: 'star-sum', op: 5, data: doubled(part) });
    expect(await h.waitFor('step-done')).toMatchObject({ op: 5, applied: true });
  });

  it('a sum for an unknown op is dropped while the step keeps waiting', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 2);
    h.step(5);
    const part = await h.waitFor('star-part');
    h.deliver({ type: 'star-sum', op: 9, data: doubled(part) });
    expect(h.logs.at(-1)).toMatch(/op 9 dropped: op 5 is running/);
    expect(h.sent.some((m) => m.type === 'step-done' || m.type === 'step-aborted')).toBe(false);
    h.deliver({ type: 'star-sum', op: 5, data: doubled(part) });
    expect(await h.waitFor('step-done')).toMatchObject({ op: 5 });
  });

  it('timeout: no sum reports step-aborted; the next group gets a fresh star client that works', async () => {
    const h = harness({ starTimeoutMs: 100 });
    await h.join();
    await h.group('star', 2);
    h.step(5);
    expect(await h.waitFor('step-aborted')).toMatchObject({ op: 5, reason: expect.stringMatching(/no sum from the coordinator within 100 ms/) });
    const from = h.sent.length;
    h.deliver({ type: 'prepare-group', groupId: 2 });
    expect(await h.waitFor('endpoint', from)).toEqual({ type: 'endpoint', groupId: 2, peerUrl: 'ws://127.0.0.1:1' });
    await h.group('star', 2, 2);
    h.step(6);
    const part = await h.waitFor('star-part', from);
    h.deliver({ type: 'star-sum', op: 6, data: doubled(part) });
    expect(await h.waitFor('step-done')).toMatchObject({ op: 6 });
  });

  it('a ring member leaving mid-step: step-aborted, and the broken reducer is closed at the next group', async () => {
    let closes = 0;
    const ringReducer: AllReducer = {
      algorithm: 'ring',
      wire: { sent: 0, received: 0 },
      allReduceSum: () => Promise.reject(new GradsyncError('E_PEER_LINK_CLOSED', 'ring link from rank 1 closed (code 1006)')),
      close: async () => {
        closes++;
        throw new Error('socket already gone');
      },
    };
    const h = harness({ ringReducer });
    await h.join();
    await h.group('ring', 2);
    h.step(5);
    expect(await h.waitFor('step-aborted')).toMatchObject({ op: 5, reason: expect.stringMatching(/rank 1 closed/) });
    h.deliver({ type: 'prepare-group', groupId: 2 });
    await h.waitFor('endpoint');
    expect(closes).toBe(1);
    // A failed close is logged, not thrown: the session goes on.
    expect(h.logs).toContain('closing the ring all-reduce failed: socket already gone');
    expect(h.session.phaseName).toBe('ready');
  });

  it('a group of one reduces nothing: the step is done without a star part', async () => {
    const h = harness();
    await h.join();
    await h.group('star', 1);
    h.step(3);
    expect(await h.waitFor('step-done')).toMatchObject({ op: 3, applied: true, sentBytes: 0, receivedBytes: 0 });
    expect(h.sent.some((m) => m.type === 'star-part')).toBe(false);
  });

  it('a step before the data set is out of order: the session reports a failure and ends', async () => {
    const h = harness();
    h.step(1);
    const failure = await h.waitFor('failure');
    expect(failure.message).toMatch(/out of order: step while connecting/);
    expect(await h.session.ended).toEqual({ ok: false, reason: failure.message, coordinatorLost: false });
  });

  it('the coordinator vanishing ends the session as lost (worth reconnecting); done ends it as finished', async () => {
    const lost = harness();
    lost.hangUp({ code: 1006, reason: '' });
    expect(await lost.session.ended).toMatchObject({ ok: false, coordinatorLost: true });
    const finished = harness();
    finished.deliver({ type: 'done', ok: true, reason: 'run complete' });
    expect(await finished.session.ended).toEqual({ ok: true, reason: 'run complete', coordinatorLost: false });
    expect(finished.session.phaseName).toBe('ended');
  });
});
