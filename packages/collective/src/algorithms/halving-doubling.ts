/**
 * Halving-doubling all-reduce (Rabenseifner's reduce-scatter by recursive halving, then
 * all-gather by recursive doubling) for a world that is a power of two, as a state machine with
 * no I/O.
 *
 * With world = 2^m, reduce-scatter step k (k = 0 … m−1) pairs rank r with r XOR 2^k. Both hold
 * the same range [lo, hi) and cut it at mid = lo + ⌊(hi − lo)/2⌋: the rank whose bit k is 0 keeps
 * the lower half and sends the upper, its partner the other way round; each adds what it receives
 * into the half it keeps. After m steps each rank holds the complete sum of 1/world of the buffer.
 * All-gather runs the steps backwards (bit m−1 down to 0): each rank sends everything it holds
 * and receives, by copy, the half it gave away at that reduce-scatter step.
 *
 * 2·log2(world) steps instead of the ring's 2·(world − 1), for the same bytes per rank
 * (2·(world−1)/world of the buffer): it wins where each step's latency, not the bytes, sets the
 * time (small buffers, many ranks). Steps are whole: a step's sends go out when the step before it
 * is complete, so unlike the ring nothing is pipelined across steps.
 *
 * Determinism: every element's sum is built on one rank only, as a fixed tree
 * ((x_a + x_b) + (x_c + x_d)) + …, and reaches every other rank by copy, so all ranks end with the
 * same bits (Note [Float32 sums]; the tree is not the ring's order, so the two algorithms' sums
 * may differ in the last bit, and every rank of a group always picks the same one:
 * Note [Algorithm by size]).
 *
 * Segments from one partner come in order on one link, but a later step's partner may send before
 * this rank reaches that step: reduce-scatter segments are therefore received into staging (one
 * region per step, `scratch`) and added when their step comes; all-gather segments land in place
 * at once (nothing this rank sends later reads those elements).
 */
import { GradsyncError } from '@gradsync/core';
import type { PeerOperation, PeerTransfer } from './peer-operation';
import { checkRank, type ElementRange, type RingPhase } from './ring-schedule';
import { segmentCount, segmentRange } from './segments';
import { addAt } from './simd-add';

/** One step of one rank: a pairwise exchange. */
export interface HalvingDoublingStep {
  readonly phase: RingPhase;
  /** Step within its phase, 0 … log2(world)−1. */
  readonly step: number;
  readonly globalStep: number;
  readonly partner: number;
  readonly send: ElementRange;
  readonly recv: ElementRange;
  readonly combine: 'add' | 'copy';
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Every step of rank `rank` for a buffer of `length` elements, in order. */
export function halvingDoublingSchedule(rank: number, world: number, length: number): HalvingDoublingStep[] {
  checkRank(rank, world);
  if (!isPowerOfTwo(world)) throw new GradsyncError('E_ALLREDUCE_ARG', `halving-doubling needs a power-of-two world, got ${world}`);
  if (!Number.isInteger(length) || length < 0) throw new GradsyncError('E_ALLREDUCE_ARG', `buffer length must be a non-negative integer, got ${length}`);
  const m = Math.log2(world);
  const kept: ElementRange[] = [];
  const given: ElementRange[] = [];
  let lo = 0;
  let hi = length;
  for (let k = 0; k < m; k++) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const upper = ((rank >> k) & 1) === 1;
    kept.push(upper ? { start: mid, end: hi } : { start: lo, end: mid });
    given.push(upper ? { start: lo, end: mid } : { start: mid, end: hi });
    [lo, hi] = upper ? [mid, hi] : [lo, mid];
  }
  const steps: HalvingDoublingStep[] = [];
  for (let k = 0; k < m; k++) {
    steps.push({ phase: 'reduce-scatter', step: k, globalStep: k, partner: rank ^ (1 << k), send: given[k], recv: kept[k], combine: 'add' });
  }
  for (let j = 0; j < m; j++) {
    const k = m - 1 - j;
    steps.push({ phase: 'all-gather', step: j, globalStep: m + j, partner: rank ^ (1 << k), send: kept[k], recv: given[k], combine: 'copy' });
  }
  return steps;
}

/** The ranks `rank` exchanges with (one per bit): the links halving-doubling needs. */
export function halvingDoublingPartners(rank: number, world: number): number[] {
  checkRank(rank, world);
  if (!isPowerOfTwo(world)) return [];
  const out: number[] = [];
  for (let bit = 1; bit < world; bit <<= 1) out.push(rank ^ bit);
  return out;
}

/** Floats of staging one operation needs: every reduce-scatter receive (under `length`). */
export function halvingDoublingScratchLength(rank: number, world: number, length: number): number {
  let n = 0;
  for (const s of halvingDoublingSchedule(rank, world, length)) if (s.combine === 'add') n += s.recv.end - s.recv.start;
  return n;
}

export class HalvingDoublingOperation implements PeerOperation {
  readonly initialSends: readonly PeerTransfer[];
  readonly totalReceives: number;
  private readonly steps: HalvingDoublingStep[];
  /** Staging offset (floats) of each reduce-scatter step's receive. */
  private readonly stagingAt: number[];
  private readonly arrived: number[];
  private readonly needed: number[];
  /** Per partner: its steps (in order) and how far along it is. */
  private readonly fromPartner = new Map<number, { steps: HalvingDoublingStep[]; step: number; segment: number }>();
  private current = 0;
  private received = 0;

  /**
   * `data` is reduced in place; `scratch` (at least halvingDoublingScratchLength floats) stages
   * the reduce-scatter's receives; `add` is the transport's adder (Note [Float32 sums]).
   */
  constructor(
    private readonly data: Float32Array,
    readonly rank: number,
    readonly world: number,
    private readonly segmentElements: number,
    private readonly scratch: Float32Array,
    private readonly add: (target: Float32Array, start: number, source: Float32Array) => void = addAt,
  ) {
    if (!Number.isInteger(segmentElements) || segmentElements < 1) {
      throw new GradsyncError('E_ALLREDUCE_ARG', `segment size must be a positive integer number of elements, got ${segmentElements}`);
    }
    this.steps = halvingDoublingSchedule(rank, world, data.length);
    this.stagingAt = [];
    let offset = 0;
    for (const s of this.steps) {
      this.stagingAt.push(offset);
      if (s.combine === 'add') offset += s.recv.end - s.recv.start;
    }
    if (scratch.length < offset) throw new GradsyncError('E_ALLREDUCE_ARG', `halving-doubling needs ${offset} floats of staging, got ${scratch.length}`);
    this.needed = this.steps.map((s) => segmentCount(s.recv.end - s.recv.start, segmentElements));
    this.arrived = this.steps.map(() => 0);
    this.totalReceives = this.needed.reduce((a, n) => a + n, 0);
    for (const s of this.steps) {
      const p = this.fromPartner.get(s.partner) ?? { steps: [], step: 0, segment: 0 };
      p.steps.push(s);
      this.fromPartner.set(s.partner, p);
    }
    for (const p of this.fromPartner.values()) this.skipEmpty(p);
    this.initialSends = this.steps.length === 0 ? [] : [...this.sendsOf(this.steps[0]), ...this.progress()];
  }

  get receivedCount(): number {
    return this.received;
  }

  get done(): boolean {
    return this.current === this.steps.length;
  }

  expectedFrom(peer: number): PeerTransfer | null {
    const p = this.fromPartner.get(peer);
    if (!p || p.step === p.steps.length) return null;
    return this.transfer(p.steps[p.step], p.segment, peer, 'recv');
  }

  placeFor(peer: number): Float32Array | null {
    const t = this.expectedFrom(peer);
    if (t === null) return null;
    if (t.combine === 'copy') return this.data.subarray(t.start, t.end);
    const s = this.steps[t.globalStep];
    const at = this.stagingAt[t.globalStep] + (t.start - s.recv.start);
    return this.scratch.subarray(at, at + (t.end - t.start));
  }

  acceptPlaced(peer: number): PeerTransfer[] {
    const p = this.fromPartner.get(peer);
    if (!p || p.step === p.steps.length) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: no segment is expected from rank ${peer}`);
    const s = p.steps[p.step];
    this.arrived[s.globalStep]++;
    this.received++;
    p.segment++;
    this.skipEmpty(p);
    return this.progress();
  }

  accept(peer: number, payload: Float32Array | Uint16Array): PeerTransfer[] {
    const place = this.placeFor(peer);
    if (place === null) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: no segment is expected from rank ${peer}`);
    if (!(payload instanceof Float32Array)) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: halving-doubling carries float32 only`);
    if (payload.length !== place.length) {
      throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: segment needs ${place.length} elements, got ${payload.length}`);
    }
    place.set(payload);
    return this.acceptPlaced(peer);
  }

  /** Completes every step whose receives are all in; returns the sends of the steps it enters. */
  private progress(): PeerTransfer[] {
    const sends: PeerTransfer[] = [];
    while (this.current < this.steps.length && this.arrived[this.current] === this.needed[this.current]) {
      const s = this.steps[this.current];
      if (s.combine === 'add') {
        const at = this.stagingAt[this.current];
        for (let i = 0; i < this.needed[this.current]; i++) {
          const r = segmentRange(s.recv, i, this.segmentElements);
          this.add(this.data, r.start, this.scratch.subarray(at + (r.start - s.recv.start), at + (r.end - s.recv.start)));
        }
      }
      this.current++;
      if (this.current < this.steps.length) sends.push(...this.sendsOf(this.steps[this.current]));
    }
    return sends;
  }

  private sendsOf(s: HalvingDoublingStep): PeerTransfer[] {
    const out: PeerTransfer[] = [];
    for (let i = 0, n = segmentCount(s.send.end - s.send.start, this.segmentElements); i < n; i++) out.push(this.transfer(s, i, s.partner, 'send'));
    return out;
  }

  private transfer(s: HalvingDoublingStep, segment: number, peer: number, side: 'send' | 'recv'): PeerTransfer {
    const r = segmentRange(side === 'send' ? s.send : s.recv, segment, this.segmentElements);
    return { phase: s.phase, step: s.step, globalStep: s.globalStep, chunk: 0, segment, start: r.start, end: r.end, combine: s.combine, peer };
  }

  /** Moves a partner's pointer past steps (or the end of a step) with nothing left to receive. */
  private skipEmpty(p: { steps: HalvingDoublingStep[]; step: number; segment: number }): void {
    while (p.step < p.steps.length && p.segment >= this.needed[p.steps[p.step].globalStep]) {
      p.step++;
      p.segment = 0;
    }
  }
}
