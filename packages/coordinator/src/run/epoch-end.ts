/**
 * The end of an epoch: sharded evaluation (validation, test), the plateau schedule's step, the
 * epoch record and log line, the checkpoint; and the checks that bring replicas back to one state
 * (a weights-hash mismatch, the archive's copy of the weights).
 */
import type { EpochProgress } from '@gradsync/core/node';
import type { CifarSplit, ImageShape } from '@gradsync/data';
import type { EvalSummary } from '@gradsync/metrics';
import { encodeMessage, replicaStateToWire } from '@gradsync/protocol';
import { plateauAfterEpoch, type RunConfig } from '@gradsync/train';
import type { BatchShares } from './batch-shares';
import type { EpochTally } from './epoch-tally';
import { evaluateSharded } from './evaluation';
import { fetchState } from './fetch-state';
import type { Member } from './member';
import type { Membership } from './membership';
import type { ReplyCollector } from './reply-collector';
import type { RunArchive } from './run-archive';
import type { RunRecorder } from './run-recorder';
import { BROKE, DEADLINES, done, type Outcome, type RunCursor } from './run-shared';
import { divergedRanks } from './step-summary';

/** What the end of an epoch uses of the run. */
export interface EpochEndContext {
  readonly config: RunConfig;
  readonly cursor: Pick<RunCursor, 'globalStep' | 'plateau'>;
  readonly validation: CifarSplit;
  /** The data's image shape: previews carry it, for the dashboard to draw them. */
  readonly imageShape: ImageShape;
  readonly testCount: number;
  readonly stepsPerEpoch: number;
  readonly membership: Pick<Membership, 'members'>;
  readonly replies: ReplyCollector;
  readonly shares: BatchShares<Member>;
  readonly archive: RunArchive;
  readonly recorder: RunRecorder;
  readonly progress: EpochProgress;
  log(level: 'info' | 'warn' | 'error', line: string): void;
  /** A new request id (evaluations, state fetches). */
  nextReqId(): number;
  /** The rate of global step `step` under the current plateau state. */
  learningRateAt(step: number): number;
  /** Runs `part` until it completes in one group, regrouping between tries. */
  retrying<T>(part: () => Promise<Outcome<T>>): Promise<T>;
}

export class EpochEnd {
  constructor(private readonly run: EpochEndContext) {}

  async endEpoch(epoch: number, tally: EpochTally): Promise<EvalSummary> {
    const run = this.run;
    const cursor = run.cursor;
    run.recorder.flushAfterOrders();
    run.progress.stop();
    const trainSec = (performance.now() - tally.started) / 1000;
    const validation = run.validation.count > 0 ? await run.retrying(() => this.evaluate('validation', run.validation.count, run.validation)) : null;
    const test = await run.retrying(() => this.evaluate('test', run.testCount, null));
    const lr = run.learningRateAt(cursor.globalStep - 1);
    cursor.plateau = plateauAfterEpoch(run.config, cursor.plateau, validation?.loss ?? null);
    const nextLr = run.learningRateAt(cursor.globalStep);
    const applied = Math.max(1, tally.seen);
    run.recorder.record({
      kind: 'epoch',
      t: Date.now(),
      epoch,
      step: cursor.globalStep,
      trainLoss: tally.lossSum / applied,
      trainAccuracy: tally.correct / applied,
      validation,
      test,
      lr,
      nextLr,
      durationSec: (performance.now() - tally.started) / 1000,
      imagesPerSec: tally.seen / trainSec,
    });
    run.log(
      'info',
      `epoch ${epoch + 1}/${run.config.epochs}: train loss ${(tally.lossSum / applied).toFixed(4)} acc ${(tally.correct / applied).toFixed(4)}` +
        (validation ? ` | val loss ${validation.loss.toFixed(4)} acc ${validation.accuracy.toFixed(4)}` : '') +
        ` | test acc ${test.accuracy.toFixed(4)} | ${(tally.seen / trainSec).toFixed(1)} img/s` +
        (run.config.schedule.kind === 'plateau' && nextLr !== lr ? ` | lr ${lr} -> ${nextLr}` : ''),
    );
    await run.retrying(() => this.checkpoint(epoch + 1));
    return test;
  }

  private async evaluate(split: 'validation' | 'test', count: number, previewFrom: CifarSplit | null): Promise<Outcome<EvalSummary>> {
    const run = this.run;
    const result = await evaluateSharded(run.replies, run.membership.members, {
      evalId: run.nextReqId(),
      split,
      count,
      counts: run.shares.oneOffCounts(run.membership.members, count),
      previewFrom,
      deadlineMs: DEADLINES.evaluation,
    });
    if (!result.ok) return BROKE;
    if (result.preview)
      run.recorder.record({
        kind: 'preview',
        t: Date.now(),
        epoch: Math.max(0, Math.floor((run.cursor.globalStep - 1) / run.stepsPerEpoch)),
        ...result.preview,
        shape: run.imageShape,
      });
    return done(result.summary);
  }

  async checkReplicasAgree(hashes: ReadonlyMap<number, string>, step: number): Promise<Outcome> {
    const { reference, differ } = divergedRanks(hashes);
    if (differ.length === 0) return done(undefined);
    const text = `REPLICAS DIVERGED at step ${step}: rank 0 has weights ${reference}, ${differ.map((d) => `rank ${d.rank} has ${d.hash}`).join(', ')}; broadcasting rank 0's weights`;
    this.run.log('error', text);
    this.run.recorder.record({ kind: 'message', t: Date.now(), level: 'error', text });
    const [first, ...others] = this.run.membership.members;
    if (!first) return BROKE;
    const ref = await fetchState(this.run.replies, first, this.run.nextReqId());
    if (!ref.ok) return BROKE;
    const frame = encodeMessage({ type: 'set-state', reason: 'repair', ...replicaStateToWire(ref.value.state, ref.value.appliedStep) });
    for (const w of others) w.sendFrame(frame);
    return done(undefined);
  }

  /** Brings the archive's copy of the weights to the group's (rank 0's). */
  async syncArchive(): Promise<Outcome> {
    const first = this.run.membership.members[0];
    const ref = first ? await fetchState(this.run.replies, first, this.run.nextReqId()) : BROKE;
    if (!ref.ok) return BROKE;
    this.run.archive.adopt(ref.value.state);
    return done(undefined);
  }

  private async checkpoint(nextEpoch: number): Promise<Outcome<string>> {
    if (!(await this.syncArchive()).ok) return BROKE;
    const dir = await this.run.archive.checkpoint({ nextEpoch, step: this.run.cursor.globalStep, plateau: this.run.cursor.plateau });
    this.run.log('info', `checkpoint written: ${dir} (weights ${this.run.archive.replica.weightsHash()})`);
    return done(dir);
  }

  /** A checkpoint between steps, in the middle of an epoch (Note [Stop with a checkpoint]); returns its folder. */
  checkpointNow(): Promise<Outcome<string>> {
    return this.checkpoint(Math.floor(this.run.cursor.globalStep / this.run.stepsPerEpoch));
  }
}
