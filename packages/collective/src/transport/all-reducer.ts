import { GradsyncError } from '@gradsync/core';

/**
 * What the training step needs from a reduction (the process group, in PyTorch DDP's terms):
 * the element-wise sum of `data` over all ranks, the same bytes on every rank.
 *
 * Implementations reduce in place: the returned array is `data`, now holding the sum. Operations
 * run one at a time per reducer, with ids the caller gives (the training step number works); every
 * rank must call with the same id and length. Any failure (a peer's bad frame, a closed link, a
 * timeout) rejects with a GradsyncError and leaves the reducer unusable: the group must be rebuilt.
 */
export interface AllReducer {
  /** 'solo': a group of one, nothing to reduce; 'none': a stand-in while there is no group. */
  readonly algorithm: 'ring' | 'star' | 'solo' | 'none';
  /** Bytes this reducer has sent and received so far (payloads and frame headers): a step's traffic is the difference. */
  readonly wire: WireBytes;
  /**
   * True where several operations may be in flight at once, run in call order (a reducer on its
   * own thread); otherwise the next call must wait for the last one to settle.
   */
  readonly queuesOperations?: boolean;
  /** Operations run so far by each algorithm, where the reducer chooses among several (Note [Algorithm by size]). */
  readonly operationsBy?: Readonly<Record<string, number>>;
  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface WireBytes {
  sent: number;
  received: number;
}

/** Largest operation id (ids travel as u32). */
export const MAX_OP_ID = 0xffffffff;

/** Why `allReduceSum(data, opId)` cannot start whatever the reducer's state (null: the arguments are fine). */
export function badOperationArgs(data: unknown, opId: number): GradsyncError | null {
  if (!(data instanceof Float32Array)) return new GradsyncError('E_ALLREDUCE_ARG', 'allReduceSum needs a Float32Array');
  if (!Number.isInteger(opId) || opId < 0 || opId > MAX_OP_ID)
    return new GradsyncError('E_ALLREDUCE_ARG', `operation id must be an integer in 0..${MAX_OP_ID}, got ${opId}`);
  return null;
}
