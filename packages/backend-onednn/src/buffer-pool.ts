/**
 * The byte length the pool allocates for a request: exact up to 4 KiB, above that rounded up to
 * one of 8 classes per power of two (at most 12.5% unused). Exact sizes would rarely repeat: under
 * --split speed a worker's share of the batch, and with it every activation's size, changes every
 * step, and a pool keyed by exact size filled to its cap with buffers it never reused (a worker's
 * RSS ~850 MiB, 512 of them idle buffers; with classes ~400).
 */
export function sizeClass(byteLength: number): number {
  if (byteLength <= 4096) return byteLength;
  const step = 2 ** (Math.floor(Math.log2(byteLength)) - 3);
  return Math.ceil(byteLength / step) * step;
}

/** A request may take a free buffer of its own class or of the next ones, up to this many classes larger (≤ ~27% more). */
const LARGER_CLASSES_TAKEN = 2;

/**
 * Reuses the backing stores of freed kernel outputs. A training step allocates ~100 activation-
 * sized outputs (up to 8 MB each); fresh ones cost page faults and keep V8's garbage collector
 * busy on the other core (measured: 222 ms of CPU per 165 ms step on one thread).
 *
 * Only buffers this pool handed out are ever reused, and only once no tensor's storage refers to
 * them: `retain` / `release` count the tensors whose values sit in a buffer (a cpu kernel may
 * register a view into another tensor's buffer, e.g. a contiguous slice).
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<ArrayBuffer>();
  private readonly users = new WeakMap<ArrayBuffer, number>();
  private freeBytes = 0;

  /** At most this many bytes wait in the pool; past it freed buffers are left to the GC. */
  constructor(readonly capacityBytes = 256 * 2 ** 20) {}

  /**
   * A buffer of at least `byteLength` bytes (its size class, or a free one up to two classes
   * larger), reused when one is free: callers view its first `byteLength` bytes. Contents are
   * arbitrary.
   */
  take(byteLength: number): ArrayBuffer {
    const size = sizeClass(byteLength);
    // A step with a smaller share of the batch reuses a larger step's buffers instead of pooling its own.
    for (let c = size, i = 0; i <= LARGER_CLASSES_TAKEN; c = sizeClass(c + 1), i++) {
      const reused = this.free.get(c)?.pop();
      if (reused != null) {
        this.freeBytes -= c;
        return reused;
      }
      if (c <= 4096) break; // small sizes are exact: no larger class to look in
    }
    const fresh = new ArrayBuffer(size);
    this.owned.add(fresh);
    return fresh;
  }

  /** Whether `buffer` came from this pool (only those are reused). */
  owns(buffer: ArrayBufferLike): boolean {
    return this.owned.has(buffer as ArrayBuffer);
  }

  /** A tensor's storage now lives in `buffer`. */
  retain(buffer: ArrayBufferLike): void {
    if (!this.owns(buffer)) return;
    this.users.set(buffer as ArrayBuffer, (this.users.get(buffer as ArrayBuffer) ?? 0) + 1);
  }

  /** A tensor whose storage lived in `buffer` is gone; the last one returns the buffer to the pool. */
  release(buffer: ArrayBufferLike): void {
    const b = buffer as ArrayBuffer;
    if (!this.owns(b)) return;
    const left = (this.users.get(b) ?? 1) - 1;
    if (left > 0) {
      this.users.set(b, left);
      return;
    }
    this.users.delete(b);
    if (b.byteLength === 0 || this.freeBytes + b.byteLength > this.capacityBytes) return;
    const list = this.free.get(b.byteLength) ?? [];
    list.push(b);
    this.free.set(b.byteLength, list);
    this.freeBytes += b.byteLength;
  }

  /** Bytes waiting for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }
}
