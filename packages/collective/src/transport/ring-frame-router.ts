/**
 * The ring reducer's data path, one operation at a time: where each arriving segment's payload
 * lands (the running operation's place, the scratch, or its link's early frames), what its arrival
 * sends on, and when the operation finishes. The file comment of ring-all-reducer.ts says where
 * each kind of segment lands and why.
 * (Apart from the links, ring-link-set.ts, which extends this class: the frames are routed here
 * whatever the links' lifecycle; the links reach this class only through the admitted links'
 * begin and end events, and it fails through the hooks below.)
 */
import { GradsyncError } from '@gradsync/core';
import {
  type AllReduceAlgorithm,
  createSegmentAdder,
  encodeWire,
  type PeerOperation,
  type PeerTransfer,
  type SegmentAdder,
  segmentElementsForBytes,
  wireBytesPerElement,
  type WireDtype,
} from '../algorithms/index';
import { ProtocolError } from '@gradsync/protocol';
import { decodeFrameHeader, encodeFrameHeader, FRAME_HEADER_BYTES, validateRingSegment, type RingSegmentHeader } from '../wire/peer';
import type { WireBytes } from './all-reducer';
import type { InboundLink, Links, RingGroup } from './ring-lifecycle';

export interface RunningOp {
  readonly id: number;
  readonly data: Float32Array;
  readonly algorithm: AllReduceAlgorithm;
  readonly operation: PeerOperation;
  /** What its floats travel as: the group's. */
  readonly wire: WireDtype;
  /** The dialed links, by receiving rank: each segment goes out on its peer's. */
  readonly outbound: Links['outbound'];
  pendingSends: number;
  readonly resolve: (data: Float32Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export abstract class RingFrameRouter {
  readonly wire: WireBytes = { sent: 0, received: 0 };
  readonly segmentBytes: number;

  private readonly maxEarlyBytes: number;
  protected op: RunningOp | null = null;
  /**
   * With a 16-bit wire, what the sends are encoded into: one slot per element and phase (a rank
   * sends each element at most once per phase), so no send overwrites another still in flight.
   * Grown to the largest operation and then reused.
   */
  protected wireOut = new Uint16Array(0);
  /** The reduce-scatter's add and the scratch its segments are received into (16-bit segments too: they are half the size). */
  protected readonly adder: SegmentAdder;

  protected constructor(options: { segmentBytes: number; maxEarlyBytes: number }) {
    this.segmentBytes = options.segmentBytes;
    this.maxEarlyBytes = options.maxEarlyBytes;
    this.adder = createSegmentAdder(segmentElementsForBytes(options.segmentBytes));
  }

  /** Every admitted link, whose early frames count against maxEarlyBytes (held by ring-link-set.ts). */
  protected abstract readonly inbound: ReadonlySet<InboundLink>;
  /** Ends everything with `err` (ring-link-set.ts: the links close, the running operation rejects). */
  protected abstract fail(err: GradsyncError): void;
  /** The group once connect() has been told it (ring-link-set.ts). */
  protected abstract groupOrNull(): RingGroup | null;

  // ---- data path ----

  /** A segment's header has arrived on an admitted link: where its payload goes (see ring-all-reducer.ts's file comment). */
  protected beginSegment(from: InboundLink, prefix: Uint8Array, length: number): Uint8Array | ProtocolError {
    // Refusals go back through the link, which names it; onLinkClosed adds the operation.
    const where = `ring link from rank ${from.fromRank}`;
    const header = decodeFrameHeader(prefix);
    if (header instanceof ProtocolError) return new ProtocolError(`${where}: ${header.message}`);
    if (header.kind !== 'ring-segment') return new ProtocolError(`${where}: expected a ring segment, got a ${header.kind} frame`);
    const bytes = header.floatCount * this.elementBytes();
    if (bytes !== length - FRAME_HEADER_BYTES) {
      return new ProtocolError(`${where}: ring segment announces ${bytes} payload bytes but its message carries ${length - FRAME_HEADER_BYTES}`);
    }
    this.wire.received += length;
    const op = this.op;
    // Each link is in order: while the running operation expects more from this peer, this is it;
    // otherwise the peer is ahead, on an operation not started here.
    if (op && op.operation.expectedFrom(from.fromRank) !== null) {
      const err = this.checkExpected(op, from.fromRank, header);
      if (err) return new ProtocolError(`${where}: ${err.message} (do all ranks pass the same op id and length?)`);
      // A float32 segment lands where the operation says (the output, or its staging); others in the scratch.
      const place = op.wire === 'f32' ? op.operation.placeFor(from.fromRank) : null;
      from.incoming = { opId: op.id, placed: place !== null, floats: header.floatCount };
      if (place) return new Uint8Array(place.buffer, place.byteOffset, bytes);
      return new Uint8Array(this.adder.scratch.buffer, this.adder.scratch.byteOffset, bytes);
    }
    const early = this.earlyBytes();
    if (early + bytes > this.maxEarlyBytes) {
      return new ProtocolError(`${where} sent ${early + bytes} bytes ahead of any operation here`);
    }
    from.incoming = { early: true };
    return from.early.reserve(header, bytes);
  }

  /** The payload chosen in beginSegment is complete. */
  protected endSegment(from: InboundLink): void {
    const incoming = from.incoming;
    from.incoming = null;
    if (incoming === null) return;
    const op = this.op;
    if ('early' in incoming) {
      from.early.commit();
      // The operation may have started while this segment was on its way in.
      if (op) {
        this.replayEarly(op, from);
        this.maybeFinish(op);
      }
      return;
    }
    if (!op || op.id !== incoming.opId) return; // failed while the segment came in
    const peer = from.fromRank;
    const sends = incoming.placed ? op.operation.acceptPlaced(peer) : op.operation.accept(peer, this.received(op, this.adder.scratch, incoming.floats));
    for (const t of sends) this.sendSegment(op, t);
    this.maybeFinish(op);
  }

  /** Applies a link's kept segments in order, as far as the running operation needs them. */
  protected replayEarly(op: RunningOp, from: InboundLink): void {
    while (this.op === op && op.operation.expectedFrom(from.fromRank) !== null) {
      const frame = from.early.shift();
      if (frame === null) return;
      const err = this.checkExpected(op, from.fromRank, frame.header);
      if (err) {
        this.fail(
          new ProtocolError(
            `${this.opPrefix()}ring link from rank ${from.fromRank}: ${err.message} (do all ranks pass the same op id and length?); closed the link`,
          ),
        );
        return;
      }
      const sends = op.operation.accept(from.fromRank, this.received(op, frame.payload, frame.payload.byteLength / wireBytesPerElement(op.wire)));
      for (const t of sends) this.sendSegment(op, t);
    }
  }

  private earlyBytes(): number {
    let n = 0;
    for (const link of this.inbound) n += link.early.bytes;
    return n;
  }

  /** A received payload as the running operation reads it. */
  private received(op: RunningOp, bytes: ArrayBufferView, elements: number): Float32Array | Uint16Array {
    return op.wire === 'f32' ? new Float32Array(bytes.buffer, bytes.byteOffset, elements) : new Uint16Array(bytes.buffer, bytes.byteOffset, elements);
  }

  /** Bytes per element on this group's wire (f32 before a group is known). */
  private elementBytes(): 2 | 4 {
    return wireBytesPerElement(this.groupOrNull()?.wireDtype ?? 'f32');
  }

  private checkExpected(op: RunningOp, from: number, header: RingSegmentHeader): ProtocolError | null {
    const t = op.operation.expectedFrom(from);
    return validateRingSegment(header, t && { opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount: t.end - t.start });
  }

  protected sendSegment(op: RunningOp, t: PeerTransfer): void {
    const floatCount = t.end - t.start;
    const header = encodeFrameHeader({ kind: 'ring-segment', opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount });
    let payload: Uint8Array;
    if (op.wire === 'f32') {
      payload = new Uint8Array(op.data.buffer, op.data.byteOffset + t.start * 4, floatCount * 4);
    } else {
      const slot = (t.phase === 'all-gather' ? op.data.length : 0) + t.start;
      encodeWire(op.wire, op.data, t.start, t.end, this.wireOut, slot);
      payload = new Uint8Array(this.wireOut.buffer, slot * 2, floatCount * 2);
    }
    this.wire.sent += header.byteLength + payload.byteLength;
    const link = op.outbound.get(t.peer);
    if (!link) {
      this.fail(new GradsyncError('E_ALLREDUCE_STATE', `${this.opPrefix()}no link to rank ${t.peer} for ${op.algorithm}`));
      return;
    }
    op.pendingSends++;
    link.send(header, payload, (err) => {
      op.pendingSends--;
      if (err) {
        if (this.op === op) this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `${this.opPrefix()}sending to rank ${t.peer} failed: ${err.message}`));
        return;
      }
      this.maybeFinish(op);
    });
  }

  protected maybeFinish(op: RunningOp): void {
    if (this.op === op && op.operation.done && op.pendingSends === 0) this.finishOp(null);
  }

  protected finishOp(err: GradsyncError | null): void {
    const op = this.op;
    if (!op) return;
    this.op = null;
    clearTimeout(op.timer);
    if (err) op.reject(err);
    else op.resolve(op.data);
  }

  protected opPrefix(): string {
    const rank = this.groupOrNull()?.rank;
    return this.op ? `ring all-reduce op ${this.op.id} on rank ${rank}: ` : `ring all-reduce on rank ${rank}: `;
  }
}
