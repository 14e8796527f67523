/**
 * The coordinator's side of the star all-reduce, with no sockets: contributions of an operation
 * arrive from every rank in any order; the sum is taken in rank order ((x0 + x1) + x2) + …, so it
 * is the same bits whatever the arrival order, and every rank receives that one result.
 *
 * The sum is built incrementally: a contribution from the next rank in order is added on arrival,
 * one from a later rank waits (by reference, unmodified) until the ranks before it are in.
 */
import { ProtocolError } from '@gradsync/protocol';
import { GradsyncError } from '@gradsync/core';
import { checkWorld } from './ring-schedule';
import { addInto } from './sum';

export interface StarReductionHubOptions {
  world: number;
  /** Operations allowed in flight at once (default 4); one more is a protocol error. */
  maxPendingOps?: number;
  /** How many completed operation ids are remembered to refuse late duplicates (default 64). */
  rememberCompleted?: number;
}

interface PendingOp {
  length: number;
  sum: Float32Array;
  /** Next rank whose contribution is added. */
  nextRank: number;
  arrived: boolean[];
  waiting: Map<number, Float32Array>;
}

const MAX_OP_ID = 0xffffffff;

export class StarReductionHub {
  readonly world: number;
  private readonly maxPendingOps: number;
  private readonly rememberCompleted: number;
  private readonly ops = new Map<number, PendingOp>();
  private readonly completed: number[] = [];

  constructor(options: StarReductionHubOptions) {
    checkWorld(options.world);
    this.world = options.world;
    this.maxPendingOps = options.maxPendingOps ?? 4;
    this.rememberCompleted = options.rememberCompleted ?? 64;
    if (!Number.isInteger(this.maxPendingOps) || this.maxPendingOps < 1) {
      throw new GradsyncError('E_ALLREDUCE_ARG', `maxPendingOps must be a positive integer, got ${this.maxPendingOps}`);
    }
  }

  /** Operations with some but not all contributions. */
  get pendingOps(): number {
    return this.ops.size;
  }

  /**
   * Records rank's contribution to operation `opId`. Returns the rank-ordered sum once every rank
   * has contributed (the same array for all ranks; the hub keeps no reference to it), else null.
   * `data` is read, never modified; the hub may hold it until the operation completes.
   * Throws ProtocolError for an unknown rank, a duplicate, a length that differs from the
   * operation's first contribution, a completed operation, or too many operations in flight.
   */
  contribute(opId: number, rank: number, data: Float32Array): Float32Array | null {
    if (!Number.isInteger(opId) || opId < 0 || opId > MAX_OP_ID) {
      throw new ProtocolError(`star all-reduce: operation id must be an integer in 0..${MAX_OP_ID}, got ${opId}`);
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.world) {
      throw new ProtocolError(`star all-reduce op ${opId}: rank ${rank} is not in 0..${this.world - 1}`);
    }
    if (this.completed.includes(opId)) {
      throw new ProtocolError(`star all-reduce op ${opId}: rank ${rank} contributed after the operation completed`);
    }
    let op = this.ops.get(opId);
    if (op === undefined) {
      if (this.ops.size >= this.maxPendingOps) {
        throw new ProtocolError(
          `star all-reduce op ${opId}: ${this.ops.size} operations already in flight (limit ${this.maxPendingOps}); ranks are out of step`,
        );
      }
      op = { length: data.length, sum: new Float32Array(data.length), nextRank: 0, arrived: new Array<boolean>(this.world).fill(false), waiting: new Map() };
      this.ops.set(opId, op);
    }
    if (op.arrived[rank]) {
      throw new ProtocolError(`star all-reduce op ${opId}: rank ${rank} contributed twice`);
    }
    if (data.length !== op.length) {
      throw new ProtocolError(`star all-reduce op ${opId}: rank ${rank} sent ${data.length} floats, expected ${op.length}`);
    }
    op.arrived[rank] = true;
    op.waiting.set(rank, data);
    for (let next = op.waiting.get(op.nextRank); next !== undefined; next = op.waiting.get(op.nextRank)) {
      if (op.nextRank === 0) op.sum.set(next);
      else addInto(op.sum, next);
      op.waiting.delete(op.nextRank);
      op.nextRank++;
    }
    if (op.nextRank < this.world) return null;
    this.ops.delete(opId);
    this.completed.push(opId);
    if (this.completed.length > this.rememberCompleted) this.completed.shift();
    return op.sum;
  }

  /** Drops an operation's state (after a rank failed); a later contribution to it starts afresh. */
  abort(opId: number): void {
    this.ops.delete(opId);
  }
}
