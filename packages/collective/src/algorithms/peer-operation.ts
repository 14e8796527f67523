/**
 * What the transport needs of an all-reduce algorithm, whatever its shape: which segment comes
 * next from each peer, where to receive it, and what to send once it is in. The ring (one peer in,
 * one out) and halving-doubling (a partner per step) both run behind it over the same links.
 */
import { GradsyncError } from '@gradsync/core';
import type { RingOperation, SegmentTransfer } from './ring-operation';

/** A segment to send to `peer`, or one expected from `peer`. */
export interface PeerTransfer extends SegmentTransfer {
  readonly peer: number;
}

export interface PeerOperation {
  readonly rank: number;
  /** Segments this rank receives in the whole operation. */
  readonly totalReceives: number;
  readonly receivedCount: number;
  readonly done: boolean;
  /** What to send before anything is received. */
  readonly initialSends: readonly PeerTransfer[];
  /** The next segment to arrive from `peer` (segments from one peer come in order), or null. */
  expectedFrom(peer: number): PeerTransfer | null;
  /**
   * Where the expected segment from `peer` can be received in place (its final place, or staging
   * the operation owns), or null: then receive it anywhere and hand it to `accept`.
   */
  placeFor(peer: number): Float32Array | null;
  /** The expected segment from `peer` is in the place `placeFor` gave: what to send now. */
  acceptPlaced(peer: number): PeerTransfer[];
  /** The expected segment from `peer`, received elsewhere: combined here; what to send now. */
  accept(peer: number, payload: Float32Array | Uint16Array): PeerTransfer[];
}

/** The ring's operation seen as a PeerOperation: everything comes from rank−1 and goes to rank+1. */
export class RingPeerOperation implements PeerOperation {
  readonly initialSends: readonly PeerTransfer[];

  constructor(
    private readonly ring: RingOperation,
    private readonly data: Float32Array,
    private readonly prev: number,
    private readonly next: number,
  ) {
    this.initialSends = ring.initialSends.map((t) => ({ ...t, peer: next }));
  }

  get rank(): number {
    return this.ring.rank;
  }

  get totalReceives(): number {
    return this.ring.totalReceives;
  }

  get receivedCount(): number {
    return this.ring.receivedCount;
  }

  get done(): boolean {
    return this.ring.done;
  }

  expectedFrom(peer: number): PeerTransfer | null {
    const t = peer === this.prev ? this.ring.expected : null;
    return t && { ...t, peer };
  }

  placeFor(peer: number): Float32Array | null {
    const t = this.expectedFrom(peer);
    // A float32 all-gather segment lands in the output; a sum (or a 16-bit segment) is combined from elsewhere.
    return t && t.combine === 'copy' && this.ring.wire === 'f32' ? this.data.subarray(t.start, t.end) : null;
  }

  acceptPlaced(peer: number): PeerTransfer[] {
    this.checkPeer(peer);
    return this.onward(this.ring.acceptPlaced());
  }

  accept(peer: number, payload: Float32Array | Uint16Array): PeerTransfer[] {
    this.checkPeer(peer);
    return this.onward(this.ring.accept(payload));
  }

  private onward(t: SegmentTransfer | null): PeerTransfer[] {
    return t ? [{ ...t, peer: this.next }] : [];
  }

  private checkPeer(peer: number): void {
    if (peer !== this.prev) throw new GradsyncError('E_ALLREDUCE_STATE', `rank ${this.rank}: a ring segment came from rank ${peer}, not rank ${this.prev}`);
  }
}
