import type { WorkerMessage } from '@gradsync/protocol';
import type { StarRelay } from '@gradsync/collective';
import type { Member } from './member';
import type { EpochTally } from './epoch-tally';

/** A step whose answers were cut short when the group broke: settled at the next regroup. */
export interface InterruptedStep {
  step: number;
  epoch: number;
  samples: number;
  lr: number;
  started: number;
  tally: EpochTally;
  /** The answers that had arrived before the break. */
  partial: ReadonlyMap<Member, WorkerMessage>;
}

/**
 * Where the run stands, in one value instead of a set of flags:
 * - `waiting`: no group yet (the first --workers have not all arrived);
 * - `grouped`: a group is formed and trains (`star` set when it reduces through the coordinator);
 * - `broken`: a member left or a reduction failed; the next step boundary regroups (and redoes or
 *   counts each `interrupted` step: two when one was ordered ahead, Note [Orders ahead]);
 * - `failing`: a fatal error stops the run at its next wait;
 * - `over`: finished (completed, failed or stopped); joiners are turned away.
 */
export type RunPhase =
  | { kind: 'waiting' }
  | { kind: 'grouped'; groupId: number; star: StarRelay | null }
  | { kind: 'broken'; groupId: number; reason: string; interrupted: readonly InterruptedStep[] }
  | { kind: 'failing'; error: Error }
  | { kind: 'over' };
