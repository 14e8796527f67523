/**
 * Segments that arrive before this rank starts their operation (rank−1 finished its backward pass
 * first, which in training is common), kept in order in one buffer the reducer owns. The buffer
 * grows to the largest backlog seen and is then reused, so a steady run writes the same, already
 * faulted pages every step (see Note [Link take-over] in segment-link.ts for why that matters).
 */
import type { RingSegmentHeader } from '../wire/peer';

export interface EarlyFrame {
  readonly header: RingSegmentHeader;
  /** Byte offset in the store. */
  readonly offset: number;
  readonly byteLength: number;
}

export class EarlyFrames {
  private store = new ArrayBuffer(0);
  private used = 0;
  private readonly frames: EarlyFrame[] = [];
  /** The frame being received into the store, not yet whole. */
  private pending: EarlyFrame | null = null;

  /** Bytes held. */
  get bytes(): number {
    let n = 0;
    for (const f of this.frames) n += f.byteLength;
    return n;
  }

  get length(): number {
    return this.frames.length;
  }

  /** Room for the `byteLength`-byte payload of `header`, to be filled by the caller; the frame counts from `commit()`. */
  reserve(header: RingSegmentHeader, byteLength: number): Uint8Array {
    if (this.frames.length === 0) this.used = 0;
    this.pending = null;
    if (this.used + byteLength > this.store.byteLength) {
      const grown = new ArrayBuffer(Math.max(this.used + byteLength, this.store.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.store, 0, this.used));
      this.store = grown;
    }
    const offset = this.used;
    this.used += byteLength;
    this.pending = { header, offset, byteLength };
    return new Uint8Array(this.store, offset, byteLength);
  }

  /** The oldest frame and its payload bytes (valid until the next reserve), or null. */
  shift(): { header: RingSegmentHeader; payload: Uint8Array } | null {
    const f = this.frames.shift();
    if (f === undefined) return null;
    return { header: f.header, payload: new Uint8Array(this.store, f.offset, f.byteLength) };
  }

  /** The reserved frame is whole. */
  commit(): void {
    if (this.pending) this.frames.push(this.pending);
    this.pending = null;
  }

  clear(): void {
    this.frames.length = 0;
    this.pending = null;
    this.used = 0;
  }
}
