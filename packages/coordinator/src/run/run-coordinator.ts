import { GradsyncError } from '@gradsync/core';
import { WriteFailure, EpochProgress } from '@gradsync/core/node';
import type { Replica, RunConfig } from '@gradsync/train';
import { type Cifar10, type CifarSplit, epochPermutation, globalBatchIndices, stepsPerEpoch } from '@gradsync/data';
import type { EndRecord, EvalSummary, MetricRecord } from '@gradsync/metrics';
import { whitenedStemNote, createPlateauState, learningRateAt, modelShapeFor, trainingSplits } from '@gradsync/train';
import { CLOSE, datasetChecksum, encodeMessage, type WorkerMessage } from '@gradsync/protocol';
import type { Checkpoint } from './checkpoint';
import { BatchShares } from './batch-shares';
import { CHUNK_BYTES, welcomeWorker } from './data-upload';
import { EpochEnd } from './epoch-end';
import { EpochTally } from './epoch-tally';
import { GroupLifecycle } from './group-lifecycle';
import type { Member } from './member';
import { Membership, type MembershipOptions } from './membership';
import { ReplyCollector } from './reply-collector';
import { RunArchive } from './run-archive';
import type { InterruptedStep } from './run-phase';
import { RunRecorder, type MetricsSink } from './run-recorder';
import { BROKE, DEADLINES, done, type Outcome, type RunCursor } from './run-shared';
import { answersSoFar, mayOrderAhead, type OrderedStep, sendStepOrders } from './step-orders';
import { summarizeStep } from './step-summary';
import { explainWriteFailure } from './write-failure-advice';

export type { MembershipOptions } from './membership';
export type { MetricsSink } from './run-recorder';

/** Extra heartbeat silence allowed during a group's first step. */
const FIRST_STEP_ALLOWANCE_MS = 60_000;

/**
 * (The run's sequence — steps, epochs, regroups after a departure — reads best in one place;
 * every part it drives has its own module under run/, tested apart with fake members.)
 *
 * Owns a run and sequences its parts: membership (who takes part), the reply collector (matching
 * answers to requests), the star relay, sharded evaluation and the run archive (checkpoints, the
 * exported model). It schedules every step (which samples each rank takes), decides the learning
 * rate and checks that replicas agree. When a member leaves, the step in flight is abandoned
 * everywhere, the survivors are brought to one state and regrouped, and the step is redone with
 * the same global batch re-split among them: no sample of the epoch is lost or used twice.
 */
export class RunCoordinator {
  /** Where the run stands (phase, global step, plateau state), shared with its parts. */
  private readonly cursor: RunCursor;
  private readonly membership: Membership;
  private readonly replies = new ReplyCollector();
  /** How each global batch is cut among the members (--split). */
  private readonly shares: BatchShares<Member>;
  private readonly archive: RunArchive;
  private readonly train: CifarSplit;
  private readonly validation: CifarSplit;
  private readonly checksum: string;
  private readonly recorder: RunRecorder;
  private readonly group: GroupLifecycle;
  private readonly epochEnd: EpochEnd;
  private nextOp = 1;
  private nextReq = 1;
  private nonFiniteInRow = 0;
  /** Longest recent step, ms: a worker inside a step cannot answer pings on a synchronous backend. */
  private slowestStepMs = 0;
  private readonly progress = new EpochProgress();
  /** Counters for the end of the run: how often the group changed, and steps redone. */
  readonly stats = { regroups: 0, redoneSteps: 0, skippedNonFinite: 0, orderedAhead: 0 };
  /** Step N+1's orders, sent with step N's (Note [Orders ahead]). */
  private ahead: OrderedStep | null = null;
  /** Why the run was asked to checkpoint and stop (Note [Stop with a checkpoint]), once it has been. */
  private stopRequest: string | null = null;

  constructor(
    private readonly config: RunConfig,
    private readonly data: Cifar10,
    private readonly opts: {
      runDir: string;
      runId: string;
      membership: MembershipOptions;
      metrics: MetricsSink;
      log: (level: 'info' | 'warn' | 'error', line: string) => void;
      resume: Checkpoint | null;
      /** The command that continues this run, for the advice after a failed write (default: `--resume <runDir>`). */
      resumeCommand?: string;
      /** The network when --model names a file (networkForRun). */
      network?: Replica['model'];
    },
  ) {
    ({ train: this.train, validation: this.validation } = trainingSplits(data.train, config));
    this.checksum = datasetChecksum(data);
    this.membership = new Membership(opts.membership);
    this.shares = new BatchShares(config.split);
    this.archive = new RunArchive(config, opts.runDir, data.classNames, opts.resume, this.train, modelShapeFor(data), opts.network);
    if (config.whitenedStem && !opts.resume) {
      opts.log('info', `${whitenedStemNote(this.train.count)}; every worker starts from it`);
    }
    this.cursor = {
      phase: { kind: 'waiting' },
      globalStep: opts.resume ? opts.resume.meta.step : 0,
      plateau: opts.resume ? opts.resume.meta.plateau : createPlateauState(config.lr),
      groupUntried: true,
    };
    this.recorder = new RunRecorder(opts.metrics, (err) => this.fail(err));
    const parts = {
      config,
      cursor: this.cursor,
      membership: this.membership,
      replies: this.replies,
      archive: this.archive,
      recorder: this.recorder,
      log: opts.log,
      nextReqId: () => this.nextReq++,
    };
    this.group = new GroupLifecycle({ ...parts, stats: this.stats });
    this.epochEnd = new EpochEnd({
      ...parts,
      validation: this.validation,
      imageShape: data.shape,
      testCount: data.test.count,
      stepsPerEpoch: this.stepsPerEpoch,
      shares: this.shares,
      progress: this.progress,
      learningRateAt: (step) => this.learningRateAt(step),
      retrying: (part) => this.retrying(part),
    });
  }

  get trainCount(): number {
    return this.train.count;
  }

  get validationCount(): number {
    return this.validation.count;
  }

  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.train.count, this.config.batchSize);
  }

  /** Largest frame either side may send: the data chunks or a full optimizer state, whichever is bigger. */
  static maxPayloadFor(bufferFloats: number): number {
    return Math.max(CHUNK_BYTES + 4096, bufferFloats * 4 * 3 + 65536);
  }

  /** How much longer than the heartbeat timeout a worker may be silent: twice the slowest recent step. */
  heartbeatAllowanceMs(): number {
    // A worker computing a step cannot answer pings (its event loop is busy); a new member's first
    // step (the plain-JS cpu backend takes >10 s for seed-cnn's) must not read as a dead worker.
    return 2 * this.slowestStepMs + (this.cursor.groupUntried ? FIRST_STEP_ALLOWANCE_MS : 0);
  }

  /** The hash of the coordinator's copy of the weights (the initial or resumed ones before training). */
  weightsHash(): string {
    return this.archive.replica.weightsHash();
  }

  /** Writes runs/<name>/initial-model (RunArchive.saveInitialModel). */
  saveInitialModel(): Promise<string> {
    return this.archive.saveInitialModel();
  }

  get bufferFloats(): number {
    return this.archive.bufferFloats;
  }

  // ---- events from the WorkerHub ----

  onHello(conn: Member): void {
    if (this.cursor.phase.kind === 'over') {
      conn.close(CLOSE.runOver, 'the run is over');
      return;
    }
    const admission = this.membership.admit(conn);
    if (!admission.ok) {
      conn.close(CLOSE.runFull, admission.reason);
      return;
    }
    conn.rank = admission.provisionalRank;
    const h = conn.hello;
    if (!h) return; // the hub calls onHello only after a valid hello
    this.opts.log(
      'info',
      `worker joined: ${JSON.stringify(h.host)} (pid ${h.pid}), ${JSON.stringify(h.backend)} on ${JSON.stringify(h.device)}${this.group.lastGroupId > 0 ? '; it takes part from the next step' : ''}`,
    );
    this.recorder.recordWorker(conn, 'joining');
    welcomeWorker(
      conn,
      { runId: this.opts.runId, config: this.config, checksum: this.checksum, modelTopology: this.archive.modelTopology },
      this.data,
      this.opts.log,
    );
  }

  onMessage(conn: Member, m: WorkerMessage): void {
    if (m.type === 'failure') {
      this.opts.log('error', `${conn.label} failed: ${m.message}`);
      conn.close(CLOSE.internal, 'worker failed');
    } else if (m.type === 'ready' && m.phase === 'data') {
      this.membership.markDataReady(conn);
    } else if (m.type === 'star-part') {
      if (this.cursor.phase.kind === 'grouped') this.cursor.phase.star?.onPart(conn, m.op, m.data);
    } else {
      this.replies.accept(conn, m);
    }
  }

  onGone(conn: Member, reason: string): void {
    if (this.cursor.phase.kind === 'over') return;
    const departure = this.membership.leave(conn);
    if (departure === 'unknown') return;
    this.replies.forget(conn);
    this.shares.forget(conn);
    if (conn.hello) this.recorder.recordWorker(conn, 'gone', reason);
    if (departure === 'member') {
      this.opts.log('warn', `${conn.label} left (${reason}); ${this.membership.members.length} worker(s) remain: redoing the step in flight with them`);
      this.recorder.record({ kind: 'message', t: Date.now(), level: 'warn', text: `rank ${conn.rank} (${conn.hello?.host ?? '?'}) left: ${reason}` });
      this.group.breakGroup(`rank ${conn.rank} left: ${reason}`);
    }
  }

  // ---- the run ----

  async run(): Promise<EndRecord> {
    const started = performance.now();
    let lastTest: EvalSummary | null = null;
    const end = (status: EndRecord['status'], reason?: string): EndRecord => ({
      kind: 'end',
      t: Date.now(),
      status,
      ...(reason === undefined ? {} : { reason }),
      epochs: this.config.epochs,
      steps: this.cursor.globalStep,
      wallSec: (performance.now() - started) / 1000,
      test: lastTest,
    });
    try {
      const total = this.stepsPerEpoch * this.config.epochs;
      let tally = new EpochTally(Math.floor(this.cursor.globalStep / this.stepsPerEpoch));
      while (this.cursor.globalStep < total) {
        if (this.stopRequest !== null && this.ahead === null) return await this.checkpointAndStop(end);
        // Note [Orders ahead]: a step ordered ahead runs in the group it was ordered for, before any regroup.
        const interrupted = this.ahead ? [] : await this.group.ensureGroup();
        let counted = false;
        for (const i of interrupted) {
          if (!this.group.settleInterrupted(i)) continue;
          counted = true;
          if (i.step % this.stepsPerEpoch === this.stepsPerEpoch - 1) lastTest = await this.epochEnd.endEpoch(i.epoch, i.tally);
        }
        if (counted) continue;
        const step = this.cursor.globalStep;
        const epoch = Math.floor(step / this.stepsPerEpoch);
        const inEpoch = step % this.stepsPerEpoch;
        if (tally.epoch !== epoch) tally = new EpochTally(epoch);
        if (inEpoch === 0 && tally.seen === 0) this.progress.start(`epoch ${epoch + 1}/${this.config.epochs}`, this.stepsPerEpoch);
        if (!(await this.runStep(step, epoch, inEpoch, tally)).ok) continue;
        this.cursor.globalStep = step + 1;
        if (inEpoch === this.stepsPerEpoch - 1) lastTest = await this.epochEnd.endEpoch(epoch, tally);
      }
      const completed = end('completed');
      const { orderedAhead, regroups, redoneSteps } = this.stats;
      this.opts.log('info', `step orders sent a step ahead: ${orderedAhead}; regroups: ${regroups}; steps redone: ${redoneSteps}`);
      if (this.membership.members.length > 0) await this.retrying(() => this.epochEnd.syncArchive());
      const exported = await this.archive.exportModel();
      this.opts.log('info', `model exported to ${exported.dir} (weights ${exported.weightsHash})`);
      this.recorder.record(completed);
      this.finish(true, 'run completed');
      return completed;
    } catch (caught) {
      this.recorder.flushAfterOrders();
      this.progress.stop();
      // A metrics write that failed first (from a socket event) is the one to name, not a later write it led to.
      const first = this.cursor.phase.kind === 'failing' && this.cursor.phase.error instanceof WriteFailure ? this.cursor.phase.error : caught;
      const err = first instanceof WriteFailure ? await this.explain(first) : caught;
      const reason = err instanceof Error ? err.message : String(err);
      this.recorder.record(end('failed', reason));
      this.finish(false, `run failed: ${reason}`);
      throw err instanceof GradsyncError ? err : new GradsyncError('E_RUN', reason);
    }
  }

  /** Note [Stop with a checkpoint]: the group's state at this step into a checkpoint, then the end. */
  private async checkpointAndStop(end: (status: EndRecord['status'], reason?: string) => EndRecord): Promise<EndRecord> {
    this.progress.stop();
    const dir = await this.retrying(() => this.epochEnd.checkpointNow());
    const reason = `${this.stopRequest}: checkpoint written at step ${this.cursor.globalStep}, ${dir}; resuming continues from there`;
    this.opts.log('warn', reason);
    const stopped = end('stopped', reason);
    this.recorder.record(stopped);
    // A clean end for the workers: they leave without an error, as after a completed run.
    this.finish(true, reason);
    return stopped;
  }

  /** Runs `part` until it completes in one group, regrouping between tries. */
  private async retrying<T>(part: () => Promise<Outcome<T>>): Promise<T> {
    for (;;) {
      // No step is in flight here (only runStep records one, and the run loop regroups right after it).
      await this.group.ensureGroup();
      const outcome = await part();
      if (outcome.ok) return outcome.value;
    }
  }

  private async runStep(step: number, epoch: number, inEpoch: number, tally: EpochTally): Promise<Outcome> {
    const t0 = performance.now();
    if (this.ahead && this.ahead.step !== step)
      throw new GradsyncError('E_INTERNAL', `step ${this.ahead.step} was ordered ahead, but the run went to step ${step}`);
    const orders = this.ahead ?? this.orderStep(step);
    this.ahead = null;
    const ahead = mayOrderAhead({
      step,
      stepsPerEpoch: this.stepsPerEpoch,
      totalSteps: this.stepsPerEpoch * this.config.epochs,
      reportHash: orders.reportHash,
      grouped: this.cursor.phase.kind === 'grouped',
      joinersReady: this.membership.readyJoiners().length,
    });
    if (ahead && this.stopRequest === null) {
      this.ahead = this.orderStep(step + 1);
      this.stats.orderedAhead++;
    }
    this.recorder.flushAfterOrders();
    const got = await orders.answers;
    const { lr, counts, reportHash } = orders;
    if (!got.ok || [...got.answers.values()].some((m) => m.type === 'step-aborted')) {
      const aborted = got.ok ? [...got.answers.values()].find((m) => m.type === 'step-aborted') : undefined;
      if (aborted?.type === 'step-aborted') this.group.breakGroup(`step ${step}: ${aborted.reason}`);
      this.group.noteInterrupted(this.interruptedStep(orders, t0, tally, answersSoFar(got)));
      const next = this.ahead;
      this.ahead = null;
      // Its wait ended with this one's (the break ends every wait).
      if (next) this.group.noteInterrupted(this.interruptedStep(next, t0, tally, answersSoFar(await next.answers)));
      return BROKE;
    }
    const replies = [...got.answers.entries()];
    const byRank = replies.flatMap(([w, m]) => (m.type === 'step-done' ? [[w.rank, m] as const] : []));
    for (const [w, m] of replies) if (m.type === 'step-done') this.shares.record(w, m.count, m.gradientMs ?? m.computeMs);
    const summary = summarizeStep(byRank, counts);
    if (!summary.applied) this.onNonFinite(step);
    else this.nonFiniteInRow = 0;
    if (summary.applied) {
      tally.lossSum += summary.loss * summary.samples;
      tally.correct += summary.correct;
    }
    tally.seen += summary.samples;
    const now = performance.now();
    this.slowestStepMs = Math.max(this.slowestStepMs * 0.9, now - t0);
    this.cursor.groupUntried = false;
    const hashes = new Map(byRank.map(([rank, d]) => [rank, d.hash ?? '']));
    const record: MetricRecord = {
      kind: 'step',
      t: Date.now(),
      step,
      epoch,
      loss: summary.loss,
      accuracy: summary.correct / summary.samples,
      samples: summary.samples,
      lr,
      imagesPerSec: (summary.samples * 1000) / (now - t0),
      workers: summary.workers,
      hashes: reportHash ? summary.workers.map((x) => hashes.get(x.rank) ?? '') : undefined,
    };
    const line = {
      ips: (tally.seen * 1000) / (now - tally.started),
      loss: tally.lossSum / Math.max(1, tally.seen),
      acc: tally.correct / Math.max(1, tally.seen),
    };
    // Note [Orders first]: the workers wait on the next step's orders, not on this bookkeeping.
    this.recorder.afterNextOrders(() => {
      this.recorder.record(record);
      this.progress.update(inEpoch + 1, line);
    });
    return reportHash ? this.epochEnd.checkReplicasAgree(hashes, step) : done(undefined);
  }

  /** Sends step `step`'s orders to the group as a new operation. */
  private orderStep(step: number): OrderedStep {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const inEpoch = step % this.stepsPerEpoch;
    const batch = globalBatchIndices(epochPermutation(this.config.seed, epoch, this.train.count), inEpoch, this.config.batchSize);
    const members = [...this.membership.members];
    const plan = {
      step,
      epoch,
      lr: this.learningRateAt(step),
      reportHash: (step + 1) % this.config.hashEvery === 0 || inEpoch === this.stepsPerEpoch - 1,
      batch,
    };
    return sendStepOrders(this.replies, members, this.shares.countsFor(members, batch.length), plan, this.nextOp++, DEADLINES.step);
  }

  private interruptedStep(o: OrderedStep, started: number, tally: EpochTally, partial: InterruptedStep['partial']): InterruptedStep {
    return { step: o.step, epoch: o.epoch, samples: o.samples, lr: o.lr, started, tally, partial };
  }

  /** The rate of global step `step`: the plateau state's, or the step-based schedule's over the whole run. */
  private learningRateAt(step: number): number {
    return learningRateAt(this.config, step, this.stepsPerEpoch * this.config.epochs, this.cursor.plateau);
  }

  private onNonFinite(step: number): void {
    this.nonFiniteInRow++;
    this.stats.skippedNonFinite++;
    const text = `step ${step}: the summed gradient held NaN or Inf; every rank skipped the update (${this.nonFiniteInRow} in a row, ${this.stats.skippedNonFinite} in all)`;
    this.opts.log('warn', text);
    this.recorder.record({ kind: 'message', t: Date.now(), level: 'warn', text });
    if (this.nonFiniteInRow >= this.config.maxNonFiniteSteps) {
      throw new GradsyncError(
        'E_NONFINITE',
        `stopped: ${this.nonFiniteInRow} steps in a row had NaN or Inf gradients (limit ${this.config.maxNonFiniteSteps}); the model diverged or the data holds bad values — try a lower --lr`,
      );
    }
  }

  private finish(ok: boolean, reason: string): void {
    this.cursor.phase = { kind: 'over' };
    const frame = encodeMessage({ type: 'done', ok, reason });
    for (const w of [...this.membership.members, ...this.membership.joining]) w.sendFrame(frame);
  }

  /**
   * Note [Stop with a checkpoint]: a scheduler's SIGTERM asks the run to end soon. The step in
   * flight finishes (no step is ordered ahead after the request), the group's state becomes a
   * checkpoint at that step, and the run ends 'stopped'. Resuming continues from that very step:
   * the run loop derives epoch and position from the global step, and each epoch's sample order
   * from the seed. The workers must stay for it (worker --drain-on-sigterm).
   */
  requestCheckpointAndStop(reason: string): void {
    this.stopRequest ??= reason;
  }

  /** Stops the run from outside (a signal): waiting and in-flight work fail with `reason`. */
  stop(reason: string): void {
    this.fail(new GradsyncError('E_STOPPED', reason));
  }

  /** Ends the run at its next wait with `error` (the first one wins). */
  private fail(error: GradsyncError): void {
    if (this.cursor.phase.kind === 'failing' || this.cursor.phase.kind === 'over') return;
    this.cursor.phase = { kind: 'failing', error };
    this.replies.failAll(error);
    this.membership.changed();
  }

  private explain(failure: WriteFailure): Promise<GradsyncError> {
    const runDir = this.opts.runDir;
    return explainWriteFailure(failure, { runDir, epochs: this.config.epochs, resumeCommand: this.opts.resumeCommand ?? `--resume ${runDir}` });
  }
}
