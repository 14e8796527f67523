/**
 * One rank's part of one pipelined ring all-reduce, as a state machine with no I/O.
 *
 * The transport moves bytes; this decides what they mean. A segment received at global step t is
 * exactly the segment this rank sends at global step t+1 (the chunk received at reduce-scatter
 * step k is sent at step k+1, and the chunk completed by the last reduce-scatter step is the one
 * all-gather step 0 sends, and so on), so each received segment is combined and immediately
 * forwarded: the whole all-reduce is one pipeline of segments around the ring, not 2·(N−1)
 * lock-step rounds.
 *
 * Segments arrive from rank−1 in schedule order (one ordered link), so `expected` is always the
 * single next segment; the transport validates an incoming header against it before `accept`.
 */
import { GradsyncError } from '@gradsync/core';
import { checkRank, ringChunkBounds, ringSchedule, type ElementRange, type RingPhase, type RingStep } from './ring-schedule';
import { segmentCount, segmentRange } from './segments';
import { addAt } from './simd-add';
import { decodeWire, roundToWire, type WireDtype } from './wire-dtype';

/** One segment moving over one link at one step. */
export interface SegmentTransfer {
  readonly phase: RingPhase;
  /** Step within the phase. */
  readonly step: number;
  readonly globalStep: number;
  readonly chunk: number;
  /** Segment index within the chunk. */
  readonly segment: number;
  /** Element range in the buffer. */
  readonly start: number;
  readonly end: number;
  /** What the receiver does with it. */
  readonly combine: 'add' | 'copy';
}

export class RingOperation {
  readonly rank: number;
  readonly world: number;
  readonly segmentElements: number;
  /** Segments to send before anything is received: this rank's own chunk, step 0. */
  readonly initialSends: readonly SegmentTransfer[];
  /** Number of segments this rank receives in the whole operation. */
  readonly totalReceives: number;

  private readonly data: Float32Array;
  private readonly steps: RingStep[];
  private readonly chunks: ElementRange[];
  private stepIndex = 0;
  private segmentIndex = 0;
  private received = 0;
  private next: SegmentTransfer | null;

  /**
   * `data` is reduced in place. `add` does the reduce-scatter's sums (`data[start + i] += payload[i]`;
   * the transport's SIMD adder, the JS loop by default: the same bits, Note [Float32 sums]).
   * `wire` is what segments travel as: with a 16-bit type, `accept` takes Uint16Array payloads
   * and the completed chunk is rounded in place before it is sent on (Note [Wire rounding]).
   */
  constructor(
    data: Float32Array,
    rank: number,
    world: number,
    segmentElements: number,
    private readonly add: (target: Float32Array, start: number, source: Float32Array) => void = addAt,
    readonly wire: WireDtype = 'f32',
  ) {
    checkRank(rank, world);
    if (!Number.isInteger(segmentElements) || segmentElements < 1) {
      throw new GradsyncError('E_ALLREDUCE_ARG', `segment size must be a positive integer number of elements, got ${segmentElements}`);
    }
    this.data = data;
    this.rank = rank;
    this.world = world;
    this.segmentElements = segmentElements;
    this.steps = ringSchedule(rank, world);
    this.chunks = ringChunkBounds(data.length, world);
    let total = 0;
    for (const s of this.steps) total += this.segmentsOf(s.recvChunk);
    this.totalReceives = total;
    this.initialSends = this.steps.length === 0 ? [] : this.transfersOf(this.steps[0], 'send');
    this.next = this.findExpected();
  }

  /** The next segment to arrive from rank−1, or null when everything has arrived. */
  get expected(): SegmentTransfer | null {
    return this.next;
  }

  /** Segments received so far. */
  get receivedCount(): number {
    return this.received;
  }

  get done(): boolean {
    return this.next === null;
  }

  /**
   * Combines the payload of the expected segment into the buffer (add or copy) and returns the
   * segment to forward to rank+1 now, or null when this was the last step.
   */
  accept(payload: Float32Array | Uint16Array): SegmentTransfer | null {
    const t = this.current();
    if (payload.length !== t.end - t.start) {
      throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: segment needs ${t.end - t.start} elements, got ${payload.length}`);
    }
    const wire = this.wire;
    if (wire === 'f32') {
      if (!(payload instanceof Float32Array)) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: a float32 ring got a 16-bit payload`);
      if (t.combine === 'add') this.add(this.data, t.start, payload);
      else this.data.set(payload, t.start);
    } else {
      if (!(payload instanceof Uint16Array)) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: a ${wire} ring got a float32 payload`);
      decodeWire(wire, this.data, t.start, payload, t.combine);
      // This rank completed the chunk's sum: its copy takes the bits every other rank will receive.
      if (t.combine === 'add' && t.step === this.world - 2) roundToWire(wire, this.data, t.start, t.end);
    }
    return this.advance(t);
  }

  /**
   * Like `accept` for a copy segment whose payload the transport already wrote into its place in
   * the buffer (all-gather received straight into the output).
   */
  acceptPlaced(): SegmentTransfer | null {
    const t = this.current();
    if (t.combine !== 'copy') throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: an add segment cannot be placed, it must be added`);
    if (this.wire !== 'f32') throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: ${this.wire} segments are decoded, not placed`);
    return this.advance(t);
  }

  private current(): SegmentTransfer {
    const t = this.next;
    if (t === null) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: ring operation already complete`);
    return t;
  }

  private advance(t: SegmentTransfer): SegmentTransfer | null {
    this.received++;
    this.segmentIndex++;
    this.next = this.findExpected();
    const following = this.steps[t.globalStep + 1];
    if (following === undefined) return null;
    // The chunk received at step t is the chunk sent at step t+1 (see the file comment).
    return this.transfer(following, following.sendChunk, t.segment);
  }

  private segmentsOf(chunk: number): number {
    const c = this.chunks[chunk];
    return segmentCount(c.end - c.start, this.segmentElements);
  }

  private transfer(step: RingStep, chunk: number, segment: number): SegmentTransfer {
    const range = segmentRange(this.chunks[chunk], segment, this.segmentElements);
    return {
      phase: step.phase,
      step: step.step,
      globalStep: step.globalStep,
      chunk,
      segment,
      start: range.start,
      end: range.end,
      combine: step.combine,
    };
  }

  private transfersOf(step: RingStep, side: 'send' | 'recv'): SegmentTransfer[] {
    const chunk = side === 'send' ? step.sendChunk : step.recvChunk;
    const out: SegmentTransfer[] = [];
    for (let s = 0, n = this.segmentsOf(chunk); s < n; s++) out.push(this.transfer(step, chunk, s));
    return out;
  }

  /** Advances past finished (or empty) steps to the next segment to receive. */
  private findExpected(): SegmentTransfer | null {
    while (this.stepIndex < this.steps.length) {
      const step = this.steps[this.stepIndex];
      if (this.segmentIndex < this.segmentsOf(step.recvChunk)) return this.transfer(step, step.recvChunk, this.segmentIndex);
      this.stepIndex++;
      this.segmentIndex = 0;
    }
    return null;
  }
}
