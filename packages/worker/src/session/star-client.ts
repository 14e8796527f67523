import { GradsyncError } from '@gradsync/core';
import { floatsFromBytes, floatsToBytes, type WorkerMessage } from '@gradsync/core/protocol';
import type { AllReducer } from '../allreduce/index';

/**
 * Star all-reduce over the coordinator link: send this rank's buffer, receive the rank-ordered
 * sum (computed by the coordinator's StarReductionHub) in a 'star-sum' message.
 */
export class StarClient implements AllReducer {
  readonly algorithm = 'star' as const;
  private readonly pending = new Map<number, { resolve: (sum: Float32Array) => void; reject: (e: Error) => void; length: number }>();

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.pending.set(opId, { resolve, reject, length: data.length });
      this.send({ type: 'star-part', op: opId, data: floatsToBytes(data) });
    });
  }

  /** Called with each 'star-sum' message as it arrives; sums nobody waits for are dropped. */
  deliver(op: number, bytes: Uint8Array): void {
    const waiter = this.pending.get(op);
    // A sum for an operation this worker abandoned (a member left) is of no use any more.
    if (!waiter) return;
    this.pending.delete(op);
    const sum = floatsFromBytes(bytes, 'star sum');
    if (sum.length !== waiter.length) {
      waiter.reject(new GradsyncError('E_PROTOCOL', `star sum for operation ${op} has ${sum.length} floats, expected ${waiter.length}`));
      return;
    }
    waiter.resolve(sum);
  }

  async close(): Promise<void> {
    for (const [op, w] of this.pending) w.reject(new GradsyncError('E_ALLREDUCE', `star all-reduce ${op} abandoned: the group was closed`));
    this.pending.clear();
  }
}
