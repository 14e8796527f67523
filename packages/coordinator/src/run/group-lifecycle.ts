/**
 * The group's life: forming it at a step boundary (admitting joiners, one state everywhere, ranks
 * and peer links), breaking it when a member leaves or a step is aborted, and settling the steps
 * a broken group left in flight (counted or redone).
 */
import { GradsyncError } from '@gradsync/core';
import { HALVING_DOUBLING_MAX_BYTES, halvingDoublingPossible, StarRelay } from '@gradsync/collective';
import { encodeMessage, replicaStateToWire } from '@gradsync/protocol';
import type { RunConfig } from '@gradsync/train';
import { fetchState } from './fetch-state';
import type { Member } from './member';
import type { Membership } from './membership';
import type { ReplyCollector } from './reply-collector';
import type { RunArchive } from './run-archive';
import type { InterruptedStep } from './run-phase';
import type { RunRecorder } from './run-recorder';
import { BROKE, DEADLINES, done, type Outcome, type RunCursor } from './run-shared';
import { summarizeStep } from './step-summary';

/** What the group's lifecycle uses of the run. */
export interface GroupLifecycleContext {
  readonly config: RunConfig;
  readonly cursor: Pick<RunCursor, 'phase' | 'globalStep' | 'groupUntried'>;
  readonly membership: Membership;
  readonly replies: ReplyCollector;
  readonly archive: RunArchive;
  readonly recorder: RunRecorder;
  readonly stats: { regroups: number; redoneSteps: number };
  log(level: 'info' | 'warn' | 'error', line: string): void;
  /** A new request id (state fetches). */
  nextReqId(): number;
}

export class GroupLifecycle {
  private groupId = 0;

  constructor(private readonly run: GroupLifecycleContext) {}

  /** The id of the last group formed (0 before the first). */
  get lastGroupId(): number {
    return this.groupId;
  }

  /**
   * At a step boundary: admits workers whose data has arrived, and rebuilds the group after a
   * departure. Below --min-workers (or before the first --workers have arrived) it waits. Returns
   * the steps a broken group left unsettled, in step order.
   */
  async ensureGroup(): Promise<readonly InterruptedStep[]> {
    const { cursor, membership } = this.run;
    for (;;) {
      if (cursor.phase.kind === 'failing') throw cursor.phase.error;
      const ready = membership.readyJoiners();
      if (cursor.phase.kind === 'grouped' && ready.length === 0 && membership.members.length > 0) return [];
      const needed = membership.needed(cursor.phase.kind === 'waiting');
      if (membership.members.length + ready.length < needed) {
        this.run.log('info', `${cursor.phase.kind === 'waiting' ? 'waiting' : 'paused: waiting'}: ${membership.describeWaiting(needed)}`);
        await membership.nextChange();
        continue;
      }
      const interrupted = cursor.phase.kind === 'broken' ? cursor.phase.interrupted : [];
      if ((await this.regroup(ready)).ok) return interrupted;
    }
  }

  /** One state everywhere, ranks assigned, peer links up: the group is ready for the next step. */
  private async regroup(joiners: Member[]): Promise<Outcome> {
    const { config, cursor, replies } = this.run;
    replies.dropStaleAnswers();
    const groupId = ++this.groupId;
    const survivors = this.run.membership.members;
    // The reference state: the first survivor's (it says which step it holds), or for a new run
    // the coordinator's initial (or resumed) weights.
    const ref = survivors[0]
      ? await fetchState(replies, survivors[0], this.run.nextReqId())
      : done({ state: this.run.archive.initialState(), appliedStep: cursor.globalStep - 1 });
    if (!ref.ok) return BROKE;
    const { state, appliedStep } = ref.value;
    const frame = (reason: 'repair' | 'join' | 'init') => encodeMessage({ type: 'set-state', reason, ...replicaStateToWire(state, appliedStep) });
    const repair = frame('repair');
    for (const w of survivors.slice(1)) w.sendFrame(repair);
    const join = frame(groupId === 1 ? 'init' : 'join');
    for (const j of joiners) j.sendFrame(join);
    const members = [...this.run.membership.formGroup(joiners)];
    if (cursor.globalStep !== appliedStep + 1) {
      this.run.log('info', `group ${groupId}: continuing from step ${appliedStep + 1} (the survivors' weights hold steps up to ${appliedStep})`);
    }
    cursor.globalStep = appliedStep + 1;

    const endpoints = replies.gather(['endpoint'], (m) => m.groupId === groupId, members, DEADLINES.control);
    for (const w of members) w.send({ type: 'prepare-group', groupId });
    const offered = await endpoints;
    if (!offered.ok) return BROKE;
    const urls = new Map([...offered.answers.entries()].map(([w, m]) => [w, m.peerUrl]));
    const world = members.length;
    const ringPossible = world > 1 && members.every((w) => urls.get(w));
    if (config.allreduce === 'ring' && world > 1 && !ringPossible) {
      throw new GradsyncError('E_CONFIG', '--allreduce ring needs every worker to accept peer links; a worker offered none');
    }
    const algorithm = config.allreduce === 'star' || !ringPossible ? 'star' : 'ring';
    const peers = algorithm === 'ring' ? members.map((w) => urls.get(w) ?? '') : [];
    const ready = replies.gather(['ready'], (m) => m.phase === 'group' && m.groupId === groupId, members, DEADLINES.control);
    for (const w of members) w.send({ type: 'group', algorithm, rank: w.rank, world, peers, groupId });
    if (!(await ready).ok) return BROKE;
    cursor.phase = { kind: 'grouped', groupId, star: algorithm === 'star' ? new StarRelay(members) : null };
    cursor.groupUntried = true;
    if (groupId > 1) this.run.stats.regroups++;
    this.run.log(
      'info',
      `group ${groupId}: ${world} worker(s), ${world === 1 ? 'no all-reduce needed' : `${algorithm} all-reduce${this.wireNote(algorithm, world)}`}, from step ${cursor.globalStep}`,
    );
    for (const w of members) this.run.recorder.recordWorker(w, 'training');
    return done(undefined);
  }

  /** What the group log line adds: halving-doubling where it runs (Note [Algorithm by size]), and --wire-dtype (only the ring compresses). */
  private wireNote(algorithm: 'ring' | 'star', world: number): string {
    const wire = this.run.config.wireDtype;
    if (algorithm === 'ring' && halvingDoublingPossible(world, wire)) return ` (halving-doubling for buffers up to ${HALVING_DOUBLING_MAX_BYTES / 1024} KiB)`;
    if (wire === 'f32') return '';
    return algorithm === 'ring'
      ? `, ${wire} on the wire`
      : ` (float32 on the wire: a worker takes no ring links, and --wire-dtype ${wire} applies to the ring)`;
  }

  /** The group is broken: abandon what is in flight everywhere and regroup at the next boundary. */
  breakGroup(reason: string): void {
    const cursor = this.run.cursor;
    if (cursor.phase.kind === 'failing' || cursor.phase.kind === 'over') return;
    const interrupted = cursor.phase.kind === 'broken' ? cursor.phase.interrupted : [];
    cursor.phase = { kind: 'broken', groupId: this.groupId, reason, interrupted };
    const frame = encodeMessage({ type: 'abort', reason: reason.slice(0, 1900) });
    for (const w of this.run.membership.members) w.sendFrame(frame);
    this.run.replies.interruptAll(reason);
  }

  /** A step in flight when the group broke (with one ordered ahead, two): the regroup settles each. */
  noteInterrupted(step: InterruptedStep): void {
    const cursor = this.run.cursor;
    if (cursor.phase.kind === 'broken') cursor.phase = { ...cursor.phase, interrupted: [...cursor.phase.interrupted, step] };
  }

  /**
   * After a regroup: was the interrupted step applied? If the group's weights include it (its
   * sum was complete before the member left), it counts, from the answers that arrived;
   * otherwise it is redone. True when it counted.
   */
  settleInterrupted(i: InterruptedStep): boolean {
    if (this.run.cursor.globalStep <= i.step) {
      this.run.stats.redoneSteps++;
      this.run.log('info', `step ${i.step} is redone by the new group`);
      return false;
    }
    const answered = [...i.partial.entries()].flatMap(([w, m]) => (m.type === 'step-done' ? [[w.rank, m] as const] : []));
    const summary = summarizeStep(answered);
    i.tally.lossSum += summary.loss * i.samples;
    i.tally.correct += summary.samples ? (summary.correct * i.samples) / summary.samples : 0;
    i.tally.seen += i.samples;
    this.run.recorder.record({
      kind: 'step',
      t: Date.now(),
      step: i.step,
      epoch: i.epoch,
      loss: summary.loss,
      accuracy: summary.samples ? summary.correct / summary.samples : 0,
      samples: i.samples,
      lr: i.lr,
      imagesPerSec: (i.samples * 1000) / (performance.now() - i.started),
      workers: summary.workers,
      recovered: true,
    });
    this.run.log('info', `step ${i.step} had been applied by the group before the member left: it counts`);
    return true;
  }
}
