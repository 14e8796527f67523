import { indicesToBytes, type WorkerMessage } from '@gradsync/protocol';
import { shardsOfCounts } from '@gradsync/data';
import type { Member } from './member';
import type { Gathered, ReplyCollector, WorkerMessageOf } from './reply-collector';

/**
 * Note [Orders ahead]
 * A step's orders are known before the step before it ends (the epoch's permutation, the split,
 * the rate), so the coordinator sends step N+1's orders right after step N's: a worker that
 * finishes N starts N+1 at once instead of idling through the coordinator's round trip.
 * - Workers handle orders strictly in order. After an abort (the group broke) a worker answers an
 *   order still queued with step-aborted without computing it; and since the regroup's requests
 *   (get-state, set-state, prepare-group) queue behind it, every stale order is answered (or its
 *   step applied) before the state the regroup starts from is read.
 * - A step ordered ahead runs in the group it was ordered for: the run loop takes it before it
 *   looks at joiners or regroups. When the group breaks with both steps in flight, both waits end
 *   at once and the regroup settles each as it settles one: counted when the survivors' weights
 *   hold it, else redone. The weights say which (their applied step), so nothing is applied twice
 *   or lost.
 * - The ahead step's deadline (a silent member is closed) runs from when its orders are sent, so
 *   it includes the step before it: minutes, against steps of milliseconds to seconds.
 * - Nothing is ordered ahead where step N+1's orders could still change: across an epoch's end
 *   (evaluation, checkpoint, the plateau rate), after a step whose hashes are checked (a repair
 *   may follow it), while a joiner waits to be admitted, or when the group is not whole.
 */
export function mayOrderAhead(s: {
  step: number;
  stepsPerEpoch: number;
  totalSteps: number;
  reportHash: boolean;
  grouped: boolean;
  joinersReady: number;
}): boolean {
  const next = s.step + 1;
  return s.grouped && !s.reportHash && s.joinersReady === 0 && next < s.totalSteps && next % s.stepsPerEpoch !== 0;
}

export type StepAnswer = WorkerMessageOf<'step-done' | 'step-aborted'>;

/** What one step asks of the group. */
export interface StepPlan {
  step: number;
  epoch: number;
  lr: number;
  reportHash: boolean;
  /** The global batch: indices into the training split. */
  batch: Uint32Array;
}

/** A step whose orders are out, with the wait for its answers. */
export interface OrderedStep extends Omit<StepPlan, 'batch'> {
  op: number;
  samples: number;
  /** Samples given to each rank, by rank. */
  counts: readonly number[];
  answers: Promise<Gathered<StepAnswer>>;
}

/**
 * Sends every member its share of `plan` as operation `op`, and starts the wait for the answers
 * (before sending, so no answer can come first).
 */
export function sendStepOrders(
  replies: ReplyCollector,
  members: readonly Member[],
  counts: readonly number[],
  plan: StepPlan,
  op: number,
  deadlineMs: number,
): OrderedStep {
  const answers = replies.gather(['step-done', 'step-aborted'], (m) => m.op === op, members, deadlineMs);
  // A step ordered ahead is awaited later; a run failing meanwhile must not leave its wait unhandled.
  answers.catch(() => {});
  const shards = shardsOfCounts(plan.batch.length, counts);
  const { step, epoch, lr, reportHash } = plan;
  for (const w of members) {
    const { start, end } = shards[w.rank];
    w.send({ type: 'step', step, epoch, lr, indices: indicesToBytes(plan.batch.subarray(start, end)), globalCount: plan.batch.length, op, reportHash });
  }
  return { step, epoch, lr, reportHash, op, samples: plan.batch.length, counts, answers };
}

/** The answers that had arrived, whether the wait completed or was cut short. */
export function answersSoFar(got: Gathered<StepAnswer>): ReadonlyMap<Member, WorkerMessage> {
  return got.ok ? got.answers : got.partial;
}
