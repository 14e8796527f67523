import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { rankOrderSum, simulateHalvingDoublingAllReduce, simulateRingAllReduce } from '../algorithms/index';
import { decode, encode } from '@gradsync/protocol';
import { decodeFrameHeader, encodeFrameHeader, FRAME_HEADER_BYTES, peerHello, peerWelcome, validatePeerHello } from '../wire/peer';
import { DEFAULT_SEGMENT_BYTES, RingAllReducer } from './ring-all-reducer';
import { randomInputs, sameBytes } from '@gradsync/testing';
import { ringGroup } from './test-support';
import { zeroMask } from './peer-socket';
import { tokensMatch } from './peer-handshake';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function ring(world: number, options: Parameters<typeof ringGroup>[1] = {}): Promise<RingAllReducer[]> {
  const reducers = await ringGroup(world, options);
  cleanup.push(() => Promise.all(reducers.map((r) => r.close())));
  return reducers;
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

describe('RingAllReducer', () => {
  const SEGMENT_BYTES = 4096;
  for (const world of [2, 3, 4]) {
    const algorithm = world === 4 ? 'halving-doubling' : 'ring'; // Note [Algorithm by size]: all these lengths are small
    it(`world ${world}: lengths 1, 7, 1e5 end bit-identical, equal to the simulated ${algorithm} and close to the rank-ordered sum (the star's result)`, async () => {
      const reducers = await ring(world, { segmentBytes: SEGMENT_BYTES });
      let opId = 0;
      for (const length of [1, 7, 100_000]) {
        const xs = randomInputs(world, length, world * 31 + length);
        opId++;
        const ringOut = await Promise.all(reducers.map((r, rank) => r.allReduceSum(Float32Array.from(xs[rank]), opId)));
        // The star path sums in rank order, bit for bit (packages/bench's star test checks that over real links).
        const starSum = rankOrderSum(xs);
        const simulate = algorithm === 'ring' ? simulateRingAllReduce : simulateHalvingDoublingAllReduce;
        const simulated = simulate(xs, { segmentElements: SEGMENT_BYTES / 4 });
        for (const out of ringOut) {
          expect(out.length).toBe(length);
          expect(sameBytes(out, ringOut[0])).toBe(true);
        }
        expect(sameBytes(ringOut[0], simulated[0])).toBe(true);
        let worst = 0;
        for (let i = 0; i < length; i++) {
          let magnitude = 0;
          for (const x of xs) magnitude += Math.abs(x[i]);
          worst = Math.max(worst, Math.abs(ringOut[0][i] - starSum[i]) / (2 * world * 2 ** -24 * magnitude));
        }
        expect(worst).toBeLessThanOrEqual(1);
      }
      for (const r of reducers) expect(r.operationsBy[algorithm]).toBe(3);
    });
  }

  it('world 8, halving-doubling and the ring by size in one group: each rank late once, sums exact, ranks identical', async () => {
    // Buffers up to 4 KiB take halving-doubling, larger ones the ring; frames of either that arrive
    // before a rank starts the operation are kept, per link, and replayed.
    const world = 8;
    const reducers = await ring(world, { segmentBytes: 256, halvingDoublingMaxBytes: 4096 });
    let opId = 100;
    for (const [i, length] of [3, 1024, 1025, 5000, 1000, 20_000, 7, 4096].entries()) {
      const xs = Array.from({ length: world }, (_, r) => Float32Array.from({ length }, (_, k) => ((k * 7 + r * 13 + i) % 201) - 100));
      const late = i % world;
      opId++;
      const early = reducers.map((r, rank) => (rank === late ? null : r.allReduceSum(Float32Array.from(xs[rank]), opId)));
      await new Promise((r) => setTimeout(r, 15));
      const outs = await Promise.all(early.map((p, rank) => p ?? reducers[rank].allReduceSum(Float32Array.from(xs[rank]), opId)));
      const exact = rankOrderSum(xs); // integers: exact in any order
      for (const out of outs) expect(sameBytes(out, exact)).toBe(true);
    }
    for (const r of reducers) expect(r.operationsBy).toEqual({ 'halving-doubling': 4, ring: 4 });
  });

  it('halving-doubling: a partner that disappears mid-operation rejects it on the others, naming the link', async () => {
    const reducers = await ring(4, { segmentBytes: 64, timeoutMs: 5000 });
    const ops = reducers.slice(0, 3).map((r, rank) => r.allReduceSum(new Float32Array(1000).fill(rank), 1));
    const outcomes = Promise.allSettled(ops);
    await new Promise((r) => setTimeout(r, 20));
    await reducers[3].close();
    const settled = await outcomes;
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      if (s.status === 'rejected') expect((s.reason as Error).message).toMatch(/ring link (to|from) rank \d closed .*during op 1/);
    }
  });

  it('reduces in place, runs back-to-back operations, and keeps frames that arrive before an operation starts', async () => {
    const reducers = await ring(3, { segmentBytes: 64 });
    for (let op = 10; op < 14; op++) {
      const xs = randomInputs(3, 1000, op);
      const inputs = xs.map((x) => Float32Array.from(x));
      // Rank 2 starts late: ranks 0 and 1 have already sent it their first segments.
      const first = reducers.slice(0, 2).map((r, rank) => r.allReduceSum(inputs[rank], op));
      await new Promise((r) => setTimeout(r, 20));
      const results = await Promise.all([...first, reducers[2].allReduceSum(inputs[2], op)]);
      results.forEach((out, rank) => expect(out).toBe(inputs[rank]));
      expect(sameBytes(results[0], results[2])).toBe(true);
      expect(sameBytes(results[0], simulateRingAllReduce(xs, { segmentElements: 16 })[0])).toBe(true);
    }
  });

  it("counts each rank's traffic: 2(N-1)/N of the buffer each way, plus a header per segment", async () => {
    // 3 ranks, 3000 floats: chunks of 1000 floats (4000 B, one segment each), 2 × 2 transfers per rank.
    const reducers = await ring(3, { segmentBytes: 4000 });
    const inputs = randomInputs(3, 3000, 5).map((x) => Float32Array.from(x));
    await Promise.all(reducers.map((r, rank) => r.allReduceSum(inputs[rank], 1)));
    for (const r of reducers) expect(r.wire).toEqual({ sent: 4 * (4000 + FRAME_HEADER_BYTES), received: 4 * (4000 + FRAME_HEADER_BYTES) });
  });

  it('handles an empty buffer and a world of one', async () => {
    const reducers = await ring(2);
    const out = await Promise.all(reducers.map((r) => r.allReduceSum(new Float32Array(0), 1)));
    expect(out.every((x) => x.length === 0)).toBe(true);
    const [solo] = await ring(1);
    const x = new Float32Array([1, 2]);
    expect(await solo.allReduceSum(x, 1)).toBe(x);
  });

  it('refuses a second concurrent operation and bad arguments', async () => {
    const reducers = await ring(2);
    const running = reducers[0].allReduceSum(new Float32Array(10), 1);
    expect((await rejection(reducers[0].allReduceSum(new Float32Array(10), 2))).code).toBe('E_ALLREDUCE_BUSY');
    expect((await rejection(reducers[0].allReduceSum(new Float32Array(1), -1))).code).toBe('E_ALLREDUCE_ARG');
    await Promise.all([running, reducers[1].allReduceSum(new Float32Array(10), 1)]);
    for (const bad of [-1, 0.5, Number.NaN]) {
      const err = await rejection(RingAllReducer.listen({ halvingDoublingMaxBytes: bad }));
      expect(err.message).toMatch(/halvingDoublingMaxBytes must be a whole number of bytes ≥ 0/);
    }
  });

  it('refuses a peer whose halving-doubling limit differs: the ranks would choose different algorithms', async () => {
    const [a, b, c, d] = await Promise.all(
      [0, 1, 2, 3].map((r) => RingAllReducer.listen({ connectTimeoutMs: 2000, halvingDoublingMaxBytes: r === 1 ? 0 : 4096 })),
    );
    cleanup.push(() => Promise.all([a, b, c, d].map((r) => r.close())));
    const peers = [a, b, c, d].map((r) => r.url);
    const joined = await Promise.allSettled([a, b, c, d].map((r, rank) => r.connect({ rank, world: 4, peers, runId: 'limits' })));
    const reasons = joined.flatMap((j) => (j.status === 'rejected' ? [(j.reason as Error).message] : []));
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.join('\n')).toMatch(/halving-doubling limit (0|4096) bytes differs from this rank's (4096|0)/);
  });

  it('rejects when rank+1 disappears mid-operation, and when an operation times out', async () => {
    const reducers = await ring(2, { timeoutMs: 300 });
    const pending = rejection(reducers[0].allReduceSum(new Float32Array(1000), 1));
    await reducers[1].close();
    const err = await pending;
    expect(err.code).toBe('E_PEER_LINK_CLOSED');
    expect(err.message).toMatch(/ring link (from|to) rank 1 closed/);
    // Broken for good: later calls say why.
    expect((await rejection(reducers[0].allReduceSum(new Float32Array(1), 2))).code).toBe('E_PEER_LINK_CLOSED');

    const pair = await ring(2, { timeoutMs: 200 });
    const timedOut = await rejection(pair[0].allReduceSum(new Float32Array(1000), 1));
    expect(timedOut.code).toBe('E_ALLREDUCE_TIMEOUT');
    expect(timedOut.message).toMatch(/op 1 on rank 0 did not finish within 200 ms \(received 0\/2 segments from rank 1/);
  });
});

/** A stock ws server that welcomes each peer as rank 0 and hands the frames after the hello to `onFrame`. */
async function welcomingServer(onFrame: (frame: Buffer) => void = () => {}): Promise<WebSocketServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (ws) => {
    ws.once('message', (data: Buffer) => {
      const hello = validatePeerHello(decode(data));
      if (!(hello instanceof Error)) ws.send(encode(peerWelcome({ runId: hello.runId, rank: 0 })));
      ws.on('message', onFrame);
    });
  });
  return server;
}

/**
 * A hand-driven rank 0 for a world of two: it admits rank 1's link with a welcome, and dials rank 1
 * itself so the test can send whatever it likes on that link.
 */
async function fakeRankZero(
  token?: string,
  segmentBytes = DEFAULT_SEGMENT_BYTES,
): Promise<{ url: string; link: (target: string) => Promise<WebSocket>; close(): Promise<void> }> {
  const server = await welcomingServer();
  const port = (server.address() as { port: number }).port;
  const opened: WebSocket[] = [];
  return {
    url: `ws://127.0.0.1:${port}`,
    link: async (target) => {
      const ws = new WebSocket(target, { generateMask: zeroMask });
      opened.push(ws);
      ws.on('error', () => {});
      await new Promise((r) => ws.once('open', r));
      ws.send(encode(peerHello({ runId: 'test-run', rank: 0, token, segmentBytes })));
      await new Promise((r) => ws.once('message', r));
      return ws;
    },
    close: async () => {
      for (const ws of opened) ws.terminate();
      for (const ws of server.clients) ws.terminate();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('RingAllReducer against a misbehaving peer', () => {
  const garbage: [string, (ws: WebSocket) => void, RegExp][] = [
    ['random bytes', (ws) => ws.send(Buffer.from('not a frame at all, definitely')), /float frame header starts with 0x6e, expected 0xc1/],
    ['a message shorter than a frame header', (ws) => ws.send(Buffer.alloc(10)), /message of 10 bytes is shorter than a 24-byte frame header/],
    ['a text message', (ws) => ws.send('hello'), /text message on a binary link/],
    [
      'a segment of another operation',
      (ws) =>
        ws.send(
          Buffer.concat([
            encodeFrameHeader({ kind: 'ring-segment', opId: 99, phase: 'reduce-scatter', step: 0, chunk: 0, segment: 0, floatCount: 5 }),
            Buffer.alloc(20),
          ]),
        ),
      /expected ring segment op 1 reduce-scatter step 0 chunk 0 segment 0 \(5 floats\), got op 99/,
    ],
    [
      'a payload shorter than its header says',
      (ws) =>
        ws.send(
          Buffer.concat([
            encodeFrameHeader({ kind: 'ring-segment', opId: 1, phase: 'reduce-scatter', step: 0, chunk: 0, segment: 0, floatCount: 5 }),
            Buffer.alloc(12),
          ]),
        ),
      /ring segment announces 20 payload bytes but its message carries 12/,
    ],
  ];
  for (const [name, send, message] of garbage) {
    it(`rejects the operation with a clear error on ${name}, closes the link, and the process carries on`, async () => {
      const fake = await fakeRankZero();
      cleanup.push(() => fake.close());
      const rank1 = await RingAllReducer.listen({ timeoutMs: 5000 });
      cleanup.push(() => rank1.close());
      const [, link] = await Promise.all([rank1.connect({ rank: 1, world: 2, peers: [fake.url, rank1.url], runId: 'test-run' }), fake.link(rank1.url)]);
      const closed = new Promise<{ code: number; reason: string }>((r) => link.once('close', (code, reason) => r({ code, reason: reason.toString() })));
      const pending = rank1.allReduceSum(new Float32Array(10), 1);
      send(link);
      const err = await rejection(pending);
      expect(err.code).toBe('E_PROTOCOL');
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/closed the link/);
      const { code, reason } = await closed;
      expect(code).toBe(1002);
      expect(reason.length).toBeGreaterThan(0);
    });
  }

  it('sends frames a stock ws endpoint reads: one binary message per segment, its header then the floats', async () => {
    const received: Buffer[] = [];
    const server = await welcomingServer((frame) => received.push(frame));
    cleanup.push(() => {
      for (const ws of server.clients) ws.terminate();
      return new Promise((r) => server.close(r));
    });
    const rank1 = await RingAllReducer.listen({ timeoutMs: 5000, segmentBytes: 16 });
    cleanup.push(() => rank1.close());
    const fakeUrl = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    const fake = await fakeRankZero(undefined, 16);
    cleanup.push(() => fake.close());
    // rank 1 sends to rank 0 (the stock server); rank 0's link into rank 1 comes from another fake that stays silent.
    await Promise.all([rank1.connect({ rank: 1, world: 2, peers: [fakeUrl, rank1.url], runId: 'test-run' }), fake.link(rank1.url)]);
    const data = Float32Array.from({ length: 10 }, (_, i) => i + 0.5);
    void rank1.allReduceSum(data, 7).catch(() => {});
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    // Rank 1 starts by sending its own chunk, [5, 10), in segments of 4 floats: [5, 9) and [9, 10).
    expect(received.map((m) => m.byteLength)).toEqual([FRAME_HEADER_BYTES + 16, FRAME_HEADER_BYTES + 4]);
    const first = decodeFrameHeader(received[0].subarray(0, FRAME_HEADER_BYTES));
    expect(first).toMatchObject({ kind: 'ring-segment', opId: 7, phase: 'reduce-scatter', step: 0, chunk: 1, segment: 0, floatCount: 4 });
    const floats = new Float32Array(received[0].buffer.slice(received[0].byteOffset + FRAME_HEADER_BYTES, received[0].byteOffset + received[0].byteLength));
    expect(Array.from(floats)).toEqual([5.5, 6.5, 7.5, 8.5]);
  });

  it('refuses a peer with the wrong token, naming the reason on both sides', async () => {
    expect(tokensMatch('a', 'a')).toBe(true);
    expect(tokensMatch('a', 'b')).toBe(false);
    expect(tokensMatch('a', undefined)).toBe(false);
    expect(tokensMatch(undefined, undefined)).toBe(true);

    const [good, bad] = await Promise.all([RingAllReducer.listen({ connectTimeoutMs: 1500 }), RingAllReducer.listen({ connectTimeoutMs: 1500 })]);
    cleanup.push(() => Promise.all([good.close(), bad.close()]));
    const peers = [good.url, bad.url];
    const [goodResult, badResult] = await Promise.allSettled([
      good.connect({ rank: 0, world: 2, peers, runId: 'test-run', token: 'right' }),
      bad.connect({ rank: 1, world: 2, peers, runId: 'test-run', token: 'wrong' }),
    ]);
    expect(badResult.status).toBe('rejected');
    const err = (badResult as PromiseRejectedResult).reason as GradsyncError;
    expect(err.code).toBe('E_PEER_REFUSED');
    expect(err.message).toMatch(/rank 0 at ws:\/\/127\.0\.0\.1:\d+ refused the link: .*wrong run token/);
    expect(goodResult.status).toBe('rejected');
  });

  it('turns away an intruder with a wrong token while the ring keeps working', async () => {
    const reducers = await ring(2, { token: 's3cret' });
    const intruder = new WebSocket(reducers[1].url, { generateMask: zeroMask });
    intruder.on('error', () => {});
    await new Promise((r) => intruder.once('open', r));
    intruder.send(encode(peerHello({ runId: 'test-run', rank: 0, token: 'guess', segmentBytes: DEFAULT_SEGMENT_BYTES })));
    const [code, reason] = await new Promise<[number, string]>((r) => intruder.once('close', (c, why) => r([c, why.toString()])));
    expect(code).toBe(1008);
    expect(reason).toMatch(/wrong run token|already has its link/);
    const out = await Promise.all(reducers.map((r, rank) => r.allReduceSum(new Float32Array([rank + 1]), 5)));
    expect(Array.from(out[0])).toEqual([3]);
  });

  for (const wireDtype of ['bf16', 'fp16'] as const) {
    it(`${wireDtype} wire, worlds 2 and 3: half the bytes, ranks bit-identical and equal to the simulated ${wireDtype} ring, early frames kept`, async () => {
      for (const world of [2, 3]) {
        const reducers = await ring(world, { segmentBytes: 256, wireDtype });
        for (const [op, length] of [
          [1, 5],
          [2, 3001],
          [3, 3001],
        ] as const) {
          const xs = randomInputs(world, length, op * 7 + world);
          const before = reducers.map((r) => r.wire.sent);
          // The last rank starts late in the second operation: its first segments arrive early.
          const first = reducers.slice(0, -1).map((r, rank) => r.allReduceSum(Float32Array.from(xs[rank]), op));
          if (op === 2) await new Promise((r) => setTimeout(r, 20));
          const out = await Promise.all([...first, reducers[world - 1].allReduceSum(Float32Array.from(xs[world - 1]), op)]);
          const simulated = simulateRingAllReduce(xs, { segmentElements: 64, wire: wireDtype });
          for (const o of out) expect(sameBytes(o, simulated[0])).toBe(true);
          if (length > 1000) {
            const payload = ((2 * (world - 1)) / world) * length * 2;
            const sent = reducers[0].wire.sent - before[0];
            expect(sent).toBeGreaterThanOrEqual(payload);
            expect(sent).toBeLessThan(payload * 1.2);
          }
        }
      }
    });
  }

  it('refuses a peer whose wire dtype differs, naming both', async () => {
    const [a, b] = await Promise.all([RingAllReducer.listen({ connectTimeoutMs: 1500 }), RingAllReducer.listen({ connectTimeoutMs: 1500 })]);
    cleanup.push(() => Promise.all([a.close(), b.close()]));
    const peers = [a.url, b.url];
    const [, second] = await Promise.allSettled([
      a.connect({ rank: 0, world: 2, peers, runId: 'test-run', wireDtype: 'bf16' }),
      b.connect({ rank: 1, world: 2, peers, runId: 'test-run' }),
    ]);
    expect(second.status).toBe('rejected');
    expect(((second as PromiseRejectedResult).reason as Error).message).toMatch(/wire dtype f32 differs from this rank's bf16/);
    expect(validatePeerHello({ ...peerHello({ runId: 'r', rank: 0, segmentBytes: 64 }), wireDtype: 'int8' })).toMatchObject({
      message: expect.stringMatching(/wireDtype must be one of f32, bf16, fp16, got "int8"/),
    });
  });
});
