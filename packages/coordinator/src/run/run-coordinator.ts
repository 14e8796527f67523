import { GradsyncError } from '@gradsync/core';
import { WriteFailure, EpochProgress } from '@gradsync/core/node';
import type { RunConfig } from '@gradsync/train';
import { type Cifar10, type CifarSplit, epochPermutation, globalBatchIndices, stepsPerEpoch } from '@gradsync/data';
import type { EndRecord, EvalSummary, MetricRecord } from '@gradsync/metrics';
import { whitenedStemNote, createPlateauState, learningRateAt, plateauAfterEpoch, type PlateauState, type ReplicaState, trainingSplits } from '@gradsync/train';
import { CLOSE, datasetChecksum, encodeMessage, replicaStateFromWire, replicaStateToWire, type WorkerMessage } from '@gradsync/protocol';
import type { Checkpoint } from './checkpoint';
import { BatchShares } from './batch-shares';
import { CHUNK_BYTES, sendWelcomeAndData } from './data-upload';
import { EpochTally } from './epoch-tally';
import { evaluateSharded } from './evaluation';
import type { Member } from './member';
import { Membership, type MembershipOptions } from './membership';
import { ReplyCollector } from './reply-collector';
import { RunArchive } from './run-archive';
import type { InterruptedStep, RunPhase } from './run-phase';
import { answersSoFar, mayOrderAhead, type OrderedStep, sendStepOrders } from './step-orders';
import { divergedRanks, summarizeStep } from './step-summary';
import { HALVING_DOUBLING_MAX_BYTES, halvingDoublingPossible, StarRelay } from '@gradsync/collective';
import { explainWriteFailure } from './write-failure-advice';

export type { MembershipOptions } from './membership';

/** How long a member may take to answer before it is dropped (generous: slow backends, first steps). */
const DEADLINES = { control: 60_000, step: 10 * 60_000, evaluation: 30 * 60_000 };
/** Extra heartbeat silence allowed during a group's first step. */
const FIRST_STEP_ALLOWANCE_MS = 60_000;

export interface MetricsSink {
  publish(record: MetricRecord): void;
}

/** What a part of the run ends with when the group may break under it. */
type Outcome<T = undefined> = { ok: true; value: T } | { ok: false };
const done = <T>(value: T): Outcome<T> => ({ ok: true, value });
const BROKE: Outcome<never> = { ok: false };

interface GroupState {
  state: ReplicaState;
  appliedStep: number;
}

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
  private phase: RunPhase = { kind: 'waiting' };
  private readonly membership: Membership;
  private readonly replies = new ReplyCollector();
  /** How each global batch is cut among the members (--split). */
  private readonly shares: BatchShares<Member>;
  private readonly archive: RunArchive;
  private readonly train: CifarSplit;
  private readonly validation: CifarSplit;
  private readonly checksum: string;
  private plateau: PlateauState;
  private globalStep = 0;
  private lastGroupId = 0;
  private nextOp = 1;
  private nextReq = 1;
  private nonFiniteInRow = 0;
  /** Longest recent step, ms: a worker inside a step cannot answer pings on a synchronous backend. */
  private slowestStepMs = 0;
  /** Until the first step of a new group is done: a member may be new, its first step slow (tfjs warming up). */
  private groupUntried = true;
  private readonly progress = new EpochProgress();
  /** The last step's record and progress line, published once the next orders are out (Note [Orders first]). */
  private afterOrders: (() => void) | null = null;
  /** Counters for the end of the run: how often the group changed, and steps redone. */
  readonly stats = { regroups: 0, redoneSteps: 0, skippedNonFinite: 0, orderedAhead: 0 };
  /** Step N+1's orders, sent with step N's (Note [Orders ahead]). */
  private ahead: OrderedStep | null = null;

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
    },
  ) {
    ({ train: this.train, validation: this.validation } = trainingSplits(data.train, config));
    this.checksum = datasetChecksum(data);
    this.membership = new Membership(opts.membership);
    this.shares = new BatchShares(config.split);
    this.archive = new RunArchive(config, opts.runDir, data.classNames, opts.resume, this.train);
    if (config.whitenedStem && !opts.resume) {
      opts.log('info', `${whitenedStemNote(this.train.count)}; every worker starts from it`);
    }
    this.plateau = opts.resume ? opts.resume.meta.plateau : createPlateauState(config.lr);
    this.globalStep = opts.resume ? opts.resume.meta.step : 0;
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
    return 2 * this.slowestStepMs + (this.groupUntried ? FIRST_STEP_ALLOWANCE_MS : 0);
  }

  get bufferFloats(): number {
    return this.archive.bufferFloats;
  }

  /** What the group log line adds: halving-doubling where it runs (Note [Algorithm by size]), and --wire-dtype (only the ring compresses). */
  private wireNote(algorithm: 'ring' | 'star', world: number): string {
    const wire = this.config.wireDtype;
    if (algorithm === 'ring' && halvingDoublingPossible(world, wire)) return ` (halving-doubling for buffers up to ${HALVING_DOUBLING_MAX_BYTES / 1024} KiB)`;
    if (wire === 'f32') return '';
    return algorithm === 'ring'
      ? `, ${wire} on the wire`
      : ` (float32 on the wire: a worker takes no ring links, and --wire-dtype ${wire} applies to the ring)`;
  }

  // ---- events from the WorkerHub ----

  onHello(conn: Member): void {
    if (this.phase.kind === 'over') {
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
      `worker joined: ${JSON.stringify(h.host)} (pid ${h.pid}), ${JSON.stringify(h.backend)} on ${JSON.stringify(h.device)}${this.lastGroupId > 0 ? '; it takes part from the next step' : ''}`,
    );
    this.recordWorker(conn, 'joining');
    sendWelcomeAndData(conn, { runId: this.opts.runId, config: this.config, checksum: this.checksum }, this.data);
  }

  onMessage(conn: Member, m: WorkerMessage): void {
    if (m.type === 'failure') {
      this.opts.log('error', `${conn.label} failed: ${m.message}`);
      conn.close(CLOSE.internal, 'worker failed');
    } else if (m.type === 'ready' && m.phase === 'data') {
      this.membership.markDataReady(conn);
    } else if (m.type === 'star-part') {
      if (this.phase.kind === 'grouped') this.phase.star?.onPart(conn, m.op, m.data);
    } else {
      this.replies.accept(conn, m);
    }
  }

  onGone(conn: Member, reason: string): void {
    if (this.phase.kind === 'over') return;
    const departure = this.membership.leave(conn);
    if (departure === 'unknown') return;
    this.replies.forget(conn);
    this.shares.forget(conn);
    if (conn.hello) this.recordWorker(conn, 'gone', reason);
    if (departure === 'member') {
      this.opts.log('warn', `${conn.label} left (${reason}); ${this.membership.members.length} worker(s) remain: redoing the step in flight with them`);
      this.record({ kind: 'message', t: Date.now(), level: 'warn', text: `rank ${conn.rank} (${conn.hello?.host ?? '?'}) left: ${reason}` });
      this.breakGroup(`rank ${conn.rank} left: ${reason}`);
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
      steps: this.globalStep,
      wallSec: (performance.now() - started) / 1000,
      test: lastTest,
    });
    try {
      const total = this.stepsPerEpoch * this.config.epochs;
      let tally = new EpochTally(Math.floor(this.globalStep / this.stepsPerEpoch));
      while (this.globalStep < total) {
        // Note [Orders ahead]: a step ordered ahead runs in the group it was ordered for, before any regroup.
        const interrupted = this.ahead ? [] : await this.ensureGroup();
        let counted = false;
        for (const i of interrupted) {
          if (!this.settleInterrupted(i)) continue;
          counted = true;
          if (i.step % this.stepsPerEpoch === this.stepsPerEpoch - 1) lastTest = await this.endEpoch(i.epoch, i.tally);
        }
        if (counted) continue;
        const step = this.globalStep;
        const epoch = Math.floor(step / this.stepsPerEpoch);
        const inEpoch = step % this.stepsPerEpoch;
        if (tally.epoch !== epoch) tally = new EpochTally(epoch);
        if (inEpoch === 0 && tally.seen === 0) this.progress.start(`epoch ${epoch + 1}/${this.config.epochs}`, this.stepsPerEpoch);
        if (!(await this.runStep(step, epoch, inEpoch, tally)).ok) continue;
        this.globalStep = step + 1;
        if (inEpoch === this.stepsPerEpoch - 1) lastTest = await this.endEpoch(epoch, tally);
      }
      const completed = end('completed');
      const { orderedAhead, regroups, redoneSteps } = this.stats;
      this.opts.log('info', `step orders sent a step ahead: ${orderedAhead}; regroups: ${regroups}; steps redone: ${redoneSteps}`);
      if (this.membership.members.length > 0) await this.retrying(() => this.syncArchive());
      const exported = await this.archive.exportModel();
      this.opts.log('info', `model exported to ${exported.dir} (weights ${exported.weightsHash})`);
      this.record(completed);
      this.finish(true, 'run completed');
      return completed;
    } catch (caught) {
      this.flushAfterOrders();
      this.progress.stop();
      // A metrics write that failed first (from a socket event) is the one to name, not a later write it led to.
      const first = this.phase.kind === 'failing' && this.phase.error instanceof WriteFailure ? this.phase.error : caught;
      const err = first instanceof WriteFailure ? await this.explain(first) : caught;
      const reason = err instanceof Error ? err.message : String(err);
      this.record(end('failed', reason));
      this.finish(false, `run failed: ${reason}`);
      throw err instanceof GradsyncError ? err : new GradsyncError('E_RUN', reason);
    }
  }

  /** Runs `part` until it completes in one group, regrouping between tries. */
  private async retrying<T>(part: () => Promise<Outcome<T>>): Promise<T> {
    for (;;) {
      // No step is in flight here (only runStep records one, and the run loop regroups right after it).
      await this.ensureGroup();
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
      grouped: this.phase.kind === 'grouped',
      joinersReady: this.membership.readyJoiners().length,
    });
    if (ahead) {
      this.ahead = this.orderStep(step + 1);
      this.stats.orderedAhead++;
    }
    this.flushAfterOrders();
    const got = await orders.answers;
    const { lr, counts, reportHash } = orders;
    if (!got.ok || [...got.answers.values()].some((m) => m.type === 'step-aborted')) {
      const aborted = got.ok ? [...got.answers.values()].find((m) => m.type === 'step-aborted') : undefined;
      if (aborted?.type === 'step-aborted') this.breakGroup(`step ${step}: ${aborted.reason}`);
      this.noteInterrupted(this.interruptedStep(orders, t0, tally, answersSoFar(got)));
      const next = this.ahead;
      this.ahead = null;
      // Its wait ended with this one's (the break ends every wait).
      if (next) this.noteInterrupted(this.interruptedStep(next, t0, tally, answersSoFar(await next.answers)));
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
    this.groupUntried = false;
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
    this.afterOrders = () => {
      this.record(record);
      this.progress.update(inEpoch + 1, line);
    };
    return reportHash ? this.checkReplicasAgree(hashes, step) : done(undefined);
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
    return learningRateAt(this.config, step, this.stepsPerEpoch * this.config.epochs, this.plateau);
  }

  private onNonFinite(step: number): void {
    this.nonFiniteInRow++;
    this.stats.skippedNonFinite++;
    const text = `step ${step}: the summed gradient held NaN or Inf; every rank skipped the update (${this.nonFiniteInRow} in a row, ${this.stats.skippedNonFinite} in all)`;
    this.opts.log('warn', text);
    this.record({ kind: 'message', t: Date.now(), level: 'warn', text });
    if (this.nonFiniteInRow >= this.config.maxNonFiniteSteps) {
      throw new GradsyncError(
        'E_NONFINITE',
        `stopped: ${this.nonFiniteInRow} steps in a row had NaN or Inf gradients (limit ${this.config.maxNonFiniteSteps}); the model diverged or the data holds bad values — try a lower --lr`,
      );
    }
  }

  private async endEpoch(epoch: number, tally: EpochTally): Promise<EvalSummary> {
    this.flushAfterOrders();
    this.progress.stop();
    const trainSec = (performance.now() - tally.started) / 1000;
    const validation = this.validation.count > 0 ? await this.retrying(() => this.evaluate('validation', this.validation.count, this.validation)) : null;
    const test = await this.retrying(() => this.evaluate('test', this.data.test.count, null));
    const lr = this.learningRateAt(this.globalStep - 1);
    this.plateau = plateauAfterEpoch(this.config, this.plateau, validation?.loss ?? null);
    const nextLr = this.learningRateAt(this.globalStep);
    const applied = Math.max(1, tally.seen);
    this.record({
      kind: 'epoch',
      t: Date.now(),
      epoch,
      step: this.globalStep,
      trainLoss: tally.lossSum / applied,
      trainAccuracy: tally.correct / applied,
      validation,
      test,
      lr,
      nextLr,
      durationSec: (performance.now() - tally.started) / 1000,
      imagesPerSec: tally.seen / trainSec,
    });
    this.opts.log(
      'info',
      `epoch ${epoch + 1}/${this.config.epochs}: train loss ${(tally.lossSum / applied).toFixed(4)} acc ${(tally.correct / applied).toFixed(4)}` +
        (validation ? ` | val loss ${validation.loss.toFixed(4)} acc ${validation.accuracy.toFixed(4)}` : '') +
        ` | test acc ${test.accuracy.toFixed(4)} | ${(tally.seen / trainSec).toFixed(1)} img/s` +
        (this.config.schedule.kind === 'plateau' && nextLr !== lr ? ` | lr ${lr} -> ${nextLr}` : ''),
    );
    await this.retrying(() => this.checkpoint(epoch + 1));
    return test;
  }

  private async evaluate(split: 'validation' | 'test', count: number, previewFrom: CifarSplit | null): Promise<Outcome<EvalSummary>> {
    const result = await evaluateSharded(this.replies, this.membership.members, {
      evalId: this.nextReq++,
      split,
      count,
      counts: this.shares.oneOffCounts(this.membership.members, count),
      previewFrom,
      deadlineMs: DEADLINES.evaluation,
    });
    if (!result.ok) return BROKE;
    if (result.preview)
      this.record({ kind: 'preview', t: Date.now(), epoch: Math.max(0, Math.floor((this.globalStep - 1) / this.stepsPerEpoch)), ...result.preview });
    return done(result.summary);
  }

  private async checkReplicasAgree(hashes: ReadonlyMap<number, string>, step: number): Promise<Outcome> {
    const { reference, differ } = divergedRanks(hashes);
    if (differ.length === 0) return done(undefined);
    const text = `REPLICAS DIVERGED at step ${step}: rank 0 has weights ${reference}, ${differ.map((d) => `rank ${d.rank} has ${d.hash}`).join(', ')}; broadcasting rank 0's weights`;
    this.opts.log('error', text);
    this.record({ kind: 'message', t: Date.now(), level: 'error', text });
    const [first, ...others] = this.membership.members;
    if (!first) return BROKE;
    const ref = await this.fetchState(first);
    if (!ref.ok) return BROKE;
    const frame = encodeMessage({ type: 'set-state', reason: 'repair', ...replicaStateToWire(ref.value.state, ref.value.appliedStep) });
    for (const w of others) w.sendFrame(frame);
    return done(undefined);
  }

  private async fetchState(member: Member): Promise<Outcome<GroupState>> {
    const reqId = this.nextReq++;
    const answer = this.replies.gather(['state'], (m) => m.reqId === reqId, [member], DEADLINES.control);
    member.send({ type: 'get-state', reqId });
    const got = await answer;
    const m = got.ok ? got.answers.get(member) : undefined;
    return m ? done(replicaStateFromWire(m, { copy: true })) : BROKE;
  }

  private async syncArchive(): Promise<Outcome> {
    const first = this.membership.members[0];
    const ref = first ? await this.fetchState(first) : BROKE;
    if (!ref.ok) return BROKE;
    this.archive.adopt(ref.value.state);
    return done(undefined);
  }

  private async checkpoint(nextEpoch: number): Promise<Outcome> {
    if (!(await this.syncArchive()).ok) return BROKE;
    const dir = await this.archive.checkpoint({ nextEpoch, step: this.globalStep, plateau: this.plateau });
    this.opts.log('info', `checkpoint written: ${dir}`);
    return done(undefined);
  }

  // ---- membership ----

  /**
   * At a step boundary: admits workers whose data has arrived, and rebuilds the group after a
   * departure. Below --min-workers (or before the first --workers have arrived) it waits. Returns
   * the steps a broken group left unsettled, in step order.
   */
  private async ensureGroup(): Promise<readonly InterruptedStep[]> {
    for (;;) {
      if (this.phase.kind === 'failing') throw this.phase.error;
      const ready = this.membership.readyJoiners();
      if (this.phase.kind === 'grouped' && ready.length === 0 && this.membership.members.length > 0) return [];
      const needed = this.membership.needed(this.phase.kind === 'waiting');
      if (this.membership.members.length + ready.length < needed) {
        this.opts.log('info', `${this.phase.kind === 'waiting' ? 'waiting' : 'paused: waiting'}: ${this.membership.describeWaiting(needed)}`);
        await this.membership.nextChange();
        continue;
      }
      const interrupted = this.phase.kind === 'broken' ? this.phase.interrupted : [];
      if ((await this.regroup(ready)).ok) return interrupted;
    }
  }

  /** One state everywhere, ranks assigned, peer links up: the group is ready for the next step. */
  private async regroup(joiners: Member[]): Promise<Outcome> {
    this.replies.dropStaleAnswers();
    const groupId = ++this.lastGroupId;
    const survivors = this.membership.members;
    // The reference state: the first survivor's (it says which step it holds), or for a new run
    // the coordinator's initial (or resumed) weights.
    const ref = survivors[0] ? await this.fetchState(survivors[0]) : done({ state: this.archive.initialState(), appliedStep: this.globalStep - 1 });
    if (!ref.ok) return BROKE;
    const { state, appliedStep } = ref.value;
    const frame = (reason: 'repair' | 'join' | 'init') => encodeMessage({ type: 'set-state', reason, ...replicaStateToWire(state, appliedStep) });
    const repair = frame('repair');
    for (const w of survivors.slice(1)) w.sendFrame(repair);
    const join = frame(groupId === 1 ? 'init' : 'join');
    for (const j of joiners) j.sendFrame(join);
    const members = [...this.membership.formGroup(joiners)];
    if (this.globalStep !== appliedStep + 1) {
      this.opts.log('info', `group ${groupId}: continuing from step ${appliedStep + 1} (the survivors' weights hold steps up to ${appliedStep})`);
    }
    this.globalStep = appliedStep + 1;

    const endpoints = this.replies.gather(['endpoint'], (m) => m.groupId === groupId, members, DEADLINES.control);
    for (const w of members) w.send({ type: 'prepare-group', groupId });
    const offered = await endpoints;
    if (!offered.ok) return BROKE;
    const urls = new Map([...offered.answers.entries()].map(([w, m]) => [w, m.peerUrl]));
    const world = members.length;
    const ringPossible = world > 1 && members.every((w) => urls.get(w));
    if (this.config.allreduce === 'ring' && world > 1 && !ringPossible) {
      throw new GradsyncError('E_CONFIG', '--allreduce ring needs every worker to accept peer links; a worker offered none');
    }
    const algorithm = this.config.allreduce === 'star' || !ringPossible ? 'star' : 'ring';
    const peers = algorithm === 'ring' ? members.map((w) => urls.get(w) ?? '') : [];
    const ready = this.replies.gather(['ready'], (m) => m.phase === 'group' && m.groupId === groupId, members, DEADLINES.control);
    for (const w of members) w.send({ type: 'group', algorithm, rank: w.rank, world, peers, groupId });
    if (!(await ready).ok) return BROKE;
    this.phase = { kind: 'grouped', groupId, star: algorithm === 'star' ? new StarRelay(members) : null };
    this.groupUntried = true;
    if (groupId > 1) this.stats.regroups++;
    this.opts.log(
      'info',
      `group ${groupId}: ${world} worker(s), ${world === 1 ? 'no all-reduce needed' : `${algorithm} all-reduce${this.wireNote(algorithm, world)}`}, from step ${this.globalStep}`,
    );
    for (const w of members) this.recordWorker(w, 'training');
    return done(undefined);
  }

  /** The group is broken: abandon what is in flight everywhere and regroup at the next boundary. */
  private breakGroup(reason: string): void {
    if (this.phase.kind === 'failing' || this.phase.kind === 'over') return;
    const interrupted = this.phase.kind === 'broken' ? this.phase.interrupted : [];
    this.phase = { kind: 'broken', groupId: this.lastGroupId, reason, interrupted };
    const frame = encodeMessage({ type: 'abort', reason: reason.slice(0, 1900) });
    for (const w of this.membership.members) w.sendFrame(frame);
    this.replies.interruptAll(reason);
  }

  /** A step in flight when the group broke (with one ordered ahead, two): the regroup settles each. */
  private noteInterrupted(step: InterruptedStep): void {
    if (this.phase.kind === 'broken') this.phase = { ...this.phase, interrupted: [...this.phase.interrupted, step] };
  }

  /**
   * After a regroup: was the interrupted step applied? If the group's weights include it (its
   * sum was complete before the member left), it counts, from the answers that arrived;
   * otherwise it is redone. True when it counted.
   */
  private settleInterrupted(i: InterruptedStep): boolean {
    if (this.globalStep <= i.step) {
      this.stats.redoneSteps++;
      this.opts.log('info', `step ${i.step} is redone by the new group`);
      return false;
    }
    const answered = [...i.partial.entries()].flatMap(([w, m]) => (m.type === 'step-done' ? [[w.rank, m] as const] : []));
    const summary = summarizeStep(answered);
    i.tally.lossSum += summary.loss * i.samples;
    i.tally.correct += summary.samples ? (summary.correct * i.samples) / summary.samples : 0;
    i.tally.seen += i.samples;
    this.record({
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
    this.opts.log('info', `step ${i.step} had been applied by the group before the member left: it counts`);
    return true;
  }

  private finish(ok: boolean, reason: string): void {
    this.phase = { kind: 'over' };
    const frame = encodeMessage({ type: 'done', ok, reason });
    for (const w of [...this.membership.members, ...this.membership.joining]) w.sendFrame(frame);
  }

  /** Stops the run from outside (a signal): waiting and in-flight work fail with `reason`. */
  stop(reason: string): void {
    this.fail(new GradsyncError('E_STOPPED', reason));
  }

  /** Ends the run at its next wait with `error` (the first one wins). */
  private fail(error: GradsyncError): void {
    if (this.phase.kind === 'failing' || this.phase.kind === 'over') return;
    this.phase = { kind: 'failing', error };
    this.replies.failAll(error);
    this.membership.changed();
  }

  private explain(failure: WriteFailure): Promise<GradsyncError> {
    const runDir = this.opts.runDir;
    return explainWriteFailure(failure, { runDir, epochs: this.config.epochs, resumeCommand: this.opts.resumeCommand ?? `--resume ${runDir}` });
  }

  private recordWorker(w: Member, status: 'joining' | 'training' | 'gone', reason?: string): void {
    const h = w.hello;
    if (!h) return;
    this.record({
      kind: 'worker',
      t: Date.now(),
      rank: w.rank,
      host: h.host,
      pid: h.pid,
      backend: h.backend,
      device: h.device,
      status,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  /**
   * Note [Orders first]
   * Between two steps every worker idles until the next step's orders arrive, so a finished
   * step's bookkeeping (its record into metrics.jsonl, TensorBoard and the dashboard; the progress
   * line) waits in `afterOrders` until the next orders are sent. Any other record, and every
   * stop of the progress line, publishes it first, so records keep their order.
   */
  private flushAfterOrders(): void {
    const publish = this.afterOrders;
    this.afterOrders = null;
    publish?.();
  }

  /**
   * Publishes a record (metrics.jsonl, dashboard). Records are also written from socket events,
   * outside the run loop: a failed write there stops the run at its next wait, not the process.
   */
  private record(r: MetricRecord): void {
    this.flushAfterOrders();
    try {
      this.opts.metrics.publish(r);
    } catch (err) {
      if (!(err instanceof WriteFailure)) throw err;
      this.fail(err);
    }
  }
}
