/**
 * Star all-reduce, worker side, over the coordinator link: the only star path (training uses it
 * and the all-reduce benchmark measures it). This rank's buffer goes out as a `star-part`; the
 * coordinator's StarRelay answers every member of the group with the rank-ordered sum as one
 * `star-sum`, which is copied into the caller's array: in place, as the AllReducer contract says.
 *
 * One client per group: any failure (a timeout, a sum of the wrong length) is final, like the
 * ring's, and the session builds a new client for the next group.
 */
import { GradsyncError } from '@gradsync/core';
import { floatsToBytes, type WorkerMessage } from '@gradsync/protocol';
import { badOperationArgs, type AllReducer, type WireBytes } from '../transport/all-reducer';

export interface StarClientOptions {
  /** Sends a message to the coordinator (the link drops it if the link is down). */
  send: (message: WorkerMessage) => void;
  /** An allReduceSum with no sum after this long rejects, and the client is failed (default 60 s, as the ring). */
  timeoutMs?: number;
}

interface RunningOp {
  readonly id: number;
  readonly data: Float32Array;
  readonly resolve: (data: Float32Array) => void;
  readonly reject: (err: GradsyncError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Where the client stands: one value, not a set of flags. */
export type StarClientState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'reducing'; readonly op: RunningOp }
  | { readonly phase: 'failed'; readonly error: GradsyncError }
  | { readonly phase: 'closed' };

/** What became of a `star-sum`: used, or dropped with the reason. */
export type SumDelivery = { ok: true } | { ok: false; reason: string };

export class StarClient implements AllReducer {
  readonly algorithm = 'star' as const;
  /** The gradient up and the sum down (their message envelopes add a few bytes each). */
  readonly wire: WireBytes = { sent: 0, received: 0 };
  private readonly send: (message: WorkerMessage) => void;
  private readonly timeoutMs: number;
  private current: StarClientState = { phase: 'idle' };

  constructor(options: StarClientOptions) {
    this.send = options.send;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  get state(): StarClientState['phase'] {
    return this.current.phase;
  }

  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    const badArgs = badOperationArgs(data, opId);
    if (badArgs) return Promise.reject(badArgs);
    const state = this.current;
    switch (state.phase) {
      case 'closed':
        return Promise.reject(new GradsyncError('E_ALLREDUCE_CLOSED', `star all-reduce op ${opId}: the reducer is closed`));
      case 'failed':
        return Promise.reject(state.error);
      case 'reducing':
        return Promise.reject(new GradsyncError('E_ALLREDUCE_BUSY', `star all-reduce op ${opId}: op ${state.op.id} is still running (one at a time)`));
      case 'idle':
        return this.start(data, opId);
    }
  }

  /** Called with each `star-sum` as it arrives. A sum for an operation not running here is dropped. */
  deliver(opId: number, bytes: Uint8Array): SumDelivery {
    const state = this.current;
    // A sum nobody waits for (the operation was abandoned when a member left) is of no use; the
    // coordinator only sends a sum once every rank has sent its part, so it cannot be early.
    if (state.phase !== 'reducing') return { ok: false, reason: `star sum for op ${opId} dropped: the client is ${state.phase}` };
    const { op } = state;
    if (op.id !== opId) return { ok: false, reason: `star sum for op ${opId} dropped: op ${op.id} is running` };
    if (bytes.byteLength !== op.data.byteLength) {
      const error = new GradsyncError('E_PROTOCOL', `star sum for op ${opId} has ${bytes.byteLength} bytes, expected ${op.data.byteLength}`);
      this.settle({ phase: 'failed', error }, error);
      return { ok: false, reason: error.message };
    }
    this.wire.received += bytes.byteLength;
    // Bytes, not floats: the message's payload need not be 4-byte aligned.
    new Uint8Array(op.data.buffer, op.data.byteOffset, op.data.byteLength).set(bytes);
    this.settle({ phase: 'idle' }, null);
    return { ok: true };
  }

  /** A running operation rejects; the client is unusable afterwards. */
  async close(): Promise<void> {
    const state = this.current;
    if (state.phase === 'closed') return;
    const error = new GradsyncError('E_ALLREDUCE_CLOSED', `star all-reduce${state.phase === 'reducing' ? ` op ${state.op.id}` : ''}: the reducer was closed`);
    this.settle({ phase: 'closed' }, error);
  }

  private start(data: Float32Array, opId: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new GradsyncError('E_ALLREDUCE_TIMEOUT', `star all-reduce op ${opId}: no sum from the coordinator within ${this.timeoutMs} ms`);
        this.settle({ phase: 'failed', error }, error);
      }, this.timeoutMs);
      this.current = { phase: 'reducing', op: { id: opId, data, resolve, reject, timer } };
      // The link encodes the message at once: `data` is not held after this call.
      this.send({ type: 'star-part', op: opId, data: floatsToBytes(data) });
      this.wire.sent += data.byteLength;
    });
  }

  /** Leaves the running operation (if any): resolved in place when `error` is null, else rejected. */
  private settle(next: StarClientState, error: GradsyncError | null): void {
    const state = this.current;
    this.current = next;
    if (state.phase !== 'reducing') return;
    clearTimeout(state.op.timer);
    if (error) state.op.reject(error);
    else state.op.resolve(state.op.data);
  }
}
