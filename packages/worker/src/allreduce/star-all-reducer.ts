/**
 * Star all-reduce, worker side: send this rank's buffer to the coordinator, receive the
 * rank-ordered sum that its StarReductionHub computed. Transport-agnostic: it talks through an
 * injected FrameChannel (a WebSocket to the coordinator in practice, see ws-frame-channel.ts).
 *
 * On the channel, contributions and results are float frames (core protocol/peer.ts): a 24-byte
 * header message, then the raw float bytes as the next message, so the buffer goes out as a view,
 * never re-encoded. The result is copied into the caller's array (in place, like the ring).
 */
import { GradsyncError } from '@gradsync/core';
import { encodeFrameHeader, FrameReader, ProtocolError, validateStarFrame } from '@gradsync/core/protocol';
import { MAX_OP_ID, type AllReducer } from './all-reducer';

/** A message channel to the coordinator carrying only float frames. */
export interface FrameChannel {
  send(frame: Uint8Array): void;
  onFrame(cb: (frame: Uint8Array) => void): void;
  /** Called once if the channel closes; pending operations reject with the reason. */
  onClose?(cb: (reason: string) => void): void;
  /** Closes the channel after a protocol error, with the reason. */
  close?(reason: string): void;
}

export interface StarAllReducerOptions {
  rank: number;
  world: number;
  channel: FrameChannel;
  /** An allReduceSum that has no result after this long rejects (default 60 s). */
  timeoutMs?: number;
}

interface PendingOp {
  data: Float32Array;
  resolve: (data: Float32Array) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class StarAllReducer implements AllReducer {
  readonly algorithm = 'star' as const;
  readonly rank: number;
  readonly world: number;
  private readonly channel: FrameChannel;
  private readonly timeoutMs: number;
  private readonly reader = new FrameReader('star result channel');
  private readonly pending = new Map<number, PendingOp>();
  private failure: GradsyncError | null = null;
  private closed = false;

  constructor(options: StarAllReducerOptions) {
    const { rank, world } = options;
    if (!Number.isInteger(world) || world < 1) throw new GradsyncError('E_ALLREDUCE_ARG', `world must be a positive integer, got ${world}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= world) throw new GradsyncError('E_ALLREDUCE_ARG', `rank must be in 0..${world - 1}, got ${rank}`);
    this.rank = rank;
    this.world = world;
    this.channel = options.channel;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.channel.onFrame((frame) => this.onFrame(frame));
    this.channel.onClose?.((reason) => {
      if (!this.closed) this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `star all-reduce: the channel to the coordinator closed (${reason})`));
    });
  }

  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    if (!(data instanceof Float32Array)) return Promise.reject(new GradsyncError('E_ALLREDUCE_ARG', 'allReduceSum needs a Float32Array'));
    if (!Number.isInteger(opId) || opId < 0 || opId > MAX_OP_ID) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_ARG', `operation id must be an integer in 0..${MAX_OP_ID}, got ${opId}`));
    }
    if (this.closed) return Promise.reject(new GradsyncError('E_ALLREDUCE_CLOSED', `star all-reduce op ${opId}: the reducer is closed`));
    if (this.failure) return Promise.reject(this.failure);
    if (this.world === 1) return Promise.resolve(data);
    if (this.pending.has(opId)) return Promise.reject(new GradsyncError('E_ALLREDUCE_BUSY', `star all-reduce op ${opId} is already running`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new GradsyncError('E_ALLREDUCE_TIMEOUT', `star all-reduce op ${opId} on rank ${this.rank}: no result from the coordinator within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.pending.set(opId, { data, resolve, reject, timer });
      try {
        this.channel.send(encodeFrameHeader({ kind: 'star-contribution', opId, rank: this.rank, floatCount: data.length }));
        if (data.length > 0) this.channel.send(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `star all-reduce op ${opId}: sending to the coordinator failed: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new GradsyncError('E_ALLREDUCE_CLOSED', 'star all-reduce: the reducer was closed'));
  }

  private onFrame(message: Uint8Array): void {
    if (this.failure || this.closed) return;
    const out = this.reader.push(message);
    if (out === null) return;
    if (out instanceof ProtocolError) return this.fail(new ProtocolError(`star all-reduce: ${out.message}; closed the channel`));
    const op = this.pending.get(out.header.opId);
    if (!op) return this.fail(new ProtocolError(`star all-reduce: got a ${out.header.kind} for op ${out.header.opId}, which rank ${this.rank} is not running; closed the channel`));
    const checked = validateStarFrame(out.header, { kind: 'star-result', opId: out.header.opId, floatCount: op.data.length });
    if (checked instanceof ProtocolError) return this.fail(new ProtocolError(`star all-reduce: ${checked.message}; closed the channel`));
    new Uint8Array(op.data.buffer, op.data.byteOffset, op.data.byteLength).set(out.payload);
    this.pending.delete(out.header.opId);
    clearTimeout(op.timer);
    op.resolve(op.data);
  }

  private fail(err: GradsyncError): void {
    if (this.failure) return;
    this.failure = err;
    this.rejectAll(err);
    this.channel.close?.(err.message);
  }

  private rejectAll(err: GradsyncError): void {
    for (const op of this.pending.values()) {
      clearTimeout(op.timer);
      op.reject(err);
    }
    this.pending.clear();
  }
}
