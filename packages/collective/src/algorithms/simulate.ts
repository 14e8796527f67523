/**
 * In-memory simulators that run the schedules across N buffers with no transport: used to test
 * the algorithms (and to document them). They are faithful to a real link in the way that matters
 * for correctness: a link is a FIFO per (rank → rank+1), and a sent segment is read from the
 * sender's buffer only when it is delivered, as a socket that holds the buffer by reference does.
 */
import { mulberry32, GradsyncError } from '@gradsync/core';
import { HalvingDoublingOperation, halvingDoublingScratchLength } from './halving-doubling';
import type { PeerOperation, PeerTransfer } from './peer-operation';
import { RingOperation, type SegmentTransfer } from './ring-operation';
import { StarReductionHub } from './star-hub';
import { encodeWire, type WireDtype } from './wire-dtype';

export interface RingSimulationOptions {
  /** Elements per segment (default: whole chunks). */
  segmentElements?: number;
  /** Seed for the order in which links deliver; default delivers round-robin. */
  deliverySeed?: number;
  /** What segments travel as (default float32). */
  wire?: WireDtype;
}

/** Runs a ring all-reduce over copies of `inputs` (one per rank); returns each rank's result. */
export function simulateRingAllReduce(inputs: readonly Float32Array[], options: RingSimulationOptions = {}): Float32Array[] {
  const world = inputs.length;
  const buffers = inputs.map((x) => Float32Array.from(x));
  if (world === 0) throw new GradsyncError('E_ALLREDUCE_ARG', 'simulation needs at least one rank');
  const length = buffers[0].length;
  if (buffers.some((b) => b.length !== length)) throw new GradsyncError('E_ALLREDUCE_ARG', 'all ranks must contribute the same length');
  if (world === 1) return buffers;
  const segmentElements = options.segmentElements ?? Math.max(1, Math.ceil(length / world));
  const wire = options.wire ?? 'f32';
  const ops = buffers.map((b, r) => new RingOperation(b, r, world, segmentElements, undefined, wire));
  // links[r] carries rank r → rank r+1. A float32 segment is read at delivery (a socket holds the
  // buffer by reference); a 16-bit one is encoded when sent, as the transport does.
  type InFlight = { t: SegmentTransfer; encoded: Uint16Array | null };
  const links: InFlight[][] = buffers.map(() => []);
  const sent = (from: number, t: SegmentTransfer): InFlight => {
    if (wire === 'f32') return { t, encoded: null };
    const encoded = new Uint16Array(t.end - t.start);
    encodeWire(wire, buffers[from], t.start, t.end, encoded, 0);
    return { t, encoded };
  };
  ops.forEach((op, r) => links[r].push(...op.initialSends.map((t) => sent(r, t))));
  const random = options.deliverySeed === undefined ? null : mulberry32(options.deliverySeed);
  let cursor = 0;
  for (;;) {
    const busy = links.map((l, r) => (l.length > 0 ? r : -1)).filter((r) => r >= 0);
    if (busy.length === 0) break;
    const from = random ? busy[Math.floor(random() * busy.length)] : busy[cursor++ % busy.length];
    const to = (from + 1) % world;
    const { t, encoded } = links[from].shift()!;
    const expected = ops[to].expected;
    if (expected === null || expected.globalStep !== t.globalStep || expected.chunk !== t.chunk || expected.segment !== t.segment) {
      throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${to} expected ${JSON.stringify(expected)}, got ${JSON.stringify(t)}`);
    }
    const forward = ops[to].accept(encoded ?? buffers[from].slice(t.start, t.end));
    if (forward) links[to].push(sent(to, forward));
  }
  const stuck = ops.findIndex((op) => !op.done);
  if (stuck >= 0) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${stuck} did not finish: waiting for ${JSON.stringify(ops[stuck].expected)}`);
  return buffers;
}

/**
 * Runs one PeerOperation per rank over in-memory links, a FIFO per (sender → receiver), delivered
 * in round-robin or seeded random order; a float32 segment is read from the sender's buffer at
 * delivery. Returns the buffers.
 */
export function simulatePeerOperations(buffers: Float32Array[], ops: readonly PeerOperation[], deliverySeed?: number): Float32Array[] {
  const world = buffers.length;
  const links = new Map<string, { from: number; to: number; queue: PeerTransfer[] }>();
  const post = (from: number, sends: readonly PeerTransfer[]) => {
    for (const t of sends) {
      const key = `${from}>${t.peer}`;
      const link = links.get(key) ?? { from, to: t.peer, queue: [] };
      link.queue.push(t);
      links.set(key, link);
    }
  };
  ops.forEach((op, r) => post(r, op.initialSends));
  const random = deliverySeed === undefined ? null : mulberry32(deliverySeed);
  let cursor = 0;
  for (;;) {
    const busy = [...links.values()].filter((l) => l.queue.length > 0);
    if (busy.length === 0) break;
    const link = random ? busy[Math.floor(random() * busy.length)] : busy[cursor++ % busy.length];
    const t = link.queue.shift()!;
    const op = ops[link.to];
    const expected = op.expectedFrom(link.from);
    if (
      expected === null ||
      expected.globalStep !== t.globalStep ||
      expected.chunk !== t.chunk ||
      expected.segment !== t.segment ||
      expected.end - expected.start !== t.end - t.start
    ) {
      throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${link.to} expected ${JSON.stringify(expected)} from rank ${link.from}, got ${JSON.stringify(t)}`);
    }
    const payload = buffers[link.from].slice(t.start, t.end);
    const place = op.placeFor(link.from);
    if (place) {
      place.set(payload);
      post(link.to, op.acceptPlaced(link.from));
    } else {
      post(link.to, op.accept(link.from, payload));
    }
  }
  const stuck = ops.findIndex((op) => !op.done);
  if (stuck >= 0)
    throw new GradsyncError(
      'E_ALLREDUCE_STATE',
      `rank ${stuck} of ${world} did not finish (${ops[stuck].receivedCount}/${ops[stuck].totalReceives} segments in)`,
    );
  return buffers;
}

/** Runs a halving-doubling all-reduce (a power-of-two world) over copies of `inputs`. */
export function simulateHalvingDoublingAllReduce(inputs: readonly Float32Array[], options: Omit<RingSimulationOptions, 'wire'> = {}): Float32Array[] {
  const world = inputs.length;
  const buffers = inputs.map((x) => Float32Array.from(x));
  if (world <= 1) return buffers;
  const length = buffers[0].length;
  if (buffers.some((b) => b.length !== length)) throw new GradsyncError('E_ALLREDUCE_ARG', 'all ranks must contribute the same length');
  const segmentElements = options.segmentElements ?? Math.max(1, Math.ceil(length / world));
  const ops = buffers.map(
    (b, r) => new HalvingDoublingOperation(b, r, world, segmentElements, new Float32Array(halvingDoublingScratchLength(r, world, length))),
  );
  return simulatePeerOperations(buffers, ops, options.deliverySeed);
}

/** Runs a star all-reduce of `inputs` through a hub, contributions arriving in `arrivalOrder`. */
export function simulateStarAllReduce(inputs: readonly Float32Array[], arrivalOrder?: readonly number[]): Float32Array[] {
  const world = inputs.length;
  const hub = new StarReductionHub({ world });
  let result: Float32Array | null = null;
  for (const r of arrivalOrder ?? inputs.map((_, i) => i)) result = hub.contribute(0, r, inputs[r]) ?? result;
  if (result === null) throw new GradsyncError('E_ALLREDUCE_STATE', 'star simulation did not complete: some rank never contributed');
  const sum = result;
  return inputs.map(() => Float32Array.from(sum));
}
