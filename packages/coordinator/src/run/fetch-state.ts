/** Asking one member for its replica state: the reference that regroups, repairs and checkpoints start from. */
import { replicaStateFromWire } from '@gradsync/protocol';
import type { ReplicaState } from '@gradsync/train';
import type { Member } from './member';
import type { ReplyCollector } from './reply-collector';
import { BROKE, DEADLINES, done, type Outcome } from './run-shared';

export interface GroupState {
  state: ReplicaState;
  appliedStep: number;
}

/** Fetches `member`'s state (weights, optimizer, the last step it applied) as request `reqId`. */
export async function fetchState(replies: ReplyCollector, member: Member, reqId: number): Promise<Outcome<GroupState>> {
  const answer = replies.gather(['state'], (m) => m.reqId === reqId, [member], DEADLINES.control);
  member.send({ type: 'get-state', reqId });
  const got = await answer;
  const m = got.ok ? got.answers.get(member) : undefined;
  return m ? done(replicaStateFromWire(m, { copy: true })) : BROKE;
}
