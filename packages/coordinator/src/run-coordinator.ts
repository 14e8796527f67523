import path from 'node:path';
import { GradsyncError, WriteFailure } from '@gradsync/core';
import type { RunConfig } from '@gradsync/core/config';
import { type Cifar10, type CifarSplit, epochPermutation, globalBatchIndices, shardOfBatch, splitValidation, stepsPerEpoch } from '@gradsync/core/data';
import type { EndRecord, EvalSummary, MetricRecord, WorkerStepStats } from '@gradsync/core/metrics';
import { buildModel, saveLayersModel } from '@gradsync/core/model';
import { EpochProgress } from '@gradsync/core/progress';
import { CLOSE, datasetChecksum, encodeMessage, type EvalDoneMsg, floatsFromBytes, floatsToBytes, indicesToBytes, type StepDoneMsg, type WorkerMessage } from '@gradsync/core/protocol';
import { addEvalSums, createPlateauState, type EvalSums, plateauStep, type PlateauState, Replica, type ReplicaState } from '@gradsync/core/train';
import { type Checkpoint, writeCheckpoint } from './checkpoint';
import { StarRelay } from './star-relay';
import { explainWriteFailure } from './write-failure-advice';
import type { WorkerConnection } from './worker-hub';
import { workerStepStats } from './worker-step-stats';

const CHUNK_BYTES = 4 << 20;

/** How long a member may take to answer before it is dropped (generous: slow backends, first steps). */
const DEADLINES = { control: 60_000, step: 10 * 60_000, evaluation: 30 * 60_000 };
const PREVIEW_COUNT = 16;

export interface MetricsSink {
  publish(record: MetricRecord): void;
}

/** A member left (or a reduction failed) while the coordinator waited: regroup and retry, not fatal. */
class MembershipChange extends Error {
  /** Answers that had arrived before the change. */
  partial = new Map<WorkerConnection, WorkerMessage>();
}

/** A step whose answers were cut short by a membership change. */
interface InterruptedStep {
  step: number;
  epoch: number;
  samples: number;
  lr: number;
  started: number;
  partial: Map<WorkerConnection, WorkerMessage>;
}

interface Collector {
  types: readonly WorkerMessage['type'][];
  /** Connections that must answer. */
  from: Set<WorkerConnection>;
  key: (m: WorkerMessage) => boolean;
  got: Map<WorkerConnection, WorkerMessage>;
  resolve: (got: Map<WorkerConnection, WorkerMessage>) => void;
  reject: (err: Error) => void;
}

interface GroupState {
  state: ReplicaState;
  appliedStep: number;
}

function summarize(s: EvalSums): EvalSummary {
  return { loss: s.count ? s.lossSum / s.count : 0, accuracy: s.count ? s.correct / s.count : 0, count: s.count, confusion: s.confusion };
}

function stateToWire(s: ReplicaState, appliedStep: number) {
  return { appliedStep, params: floatsToBytes(s.params), state: floatsToBytes(s.state), adamM: floatsToBytes(s.adam.m), adamV: floatsToBytes(s.adam.v), adamT: s.adam.t };
}

/** Running sums of one epoch's completed steps. */
class EpochTally {
  lossSum = 0;
  correct = 0;
  seen = 0;
  readonly started = performance.now();
  constructor(readonly epoch: number) {}
}

export interface MembershipOptions {
  /** Workers to wait for before the first step. */
  expectWorkers: number;
  /** Below this many, training pauses until workers join (default 1). */
  minWorkers: number;
  /** More are refused (default: no limit beyond 1024). */
  maxWorkers: number;
}

/**
 * Owns a run: admits workers (at the start or mid-run, between steps), sends each the data and
 * the weights, schedules every step (which samples each rank takes), runs the star reduction when
 * chosen, evaluates sharded, decides the learning rate, checks that replicas agree, checkpoints
 * and exports the model. When a member leaves, the step in flight is abandoned everywhere, the
 * survivors are brought to one state and regrouped, and the step is redone with the same global
 * batch re-split among them: no sample of the epoch is lost or used twice.
 */
export class RunCoordinator {
  /** The current group, index = rank. */
  private workers: WorkerConnection[] = [];
  /** Admitted, data sent, not yet in the group. */
  private joining: WorkerConnection[] = [];
  private readonly dataReady = new WeakSet<WorkerConnection>();
  private groupDirty = true;
  private groupId = 0;
  private readonly collectors = new Set<Collector>();
  private unclaimed: { conn: WorkerConnection; m: WorkerMessage }[] = [];
  private changeWaiters: (() => void)[] = [];
  private star: StarRelay | null = null;
  private failure: GradsyncError | null = null;
  private over = false;
  private readonly train: CifarSplit;
  private readonly validation: CifarSplit;
  private readonly checksum: string;
  private readonly exporter: Replica;
  private plateau: PlateauState;
  private globalStep = 0;
  private nextOp = 1;
  private nextReq = 1;
  private nonFiniteInRow = 0;
  private interrupted: InterruptedStep | null = null;
  /** Longest recent step, ms: a worker inside a step cannot answer pings on a synchronous backend. */
  private slowestStepMs = 0;
  private readonly progress = new EpochProgress();
  /** Counters for the end of the run: how often the group changed, and steps redone. */
  readonly stats = { regroups: 0, redoneSteps: 0, skippedNonFinite: 0 };

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
    const split = splitValidation(data.train, config.validationCount);
    const limit = config.limitTrain ?? split.train.count;
    this.train = limit >= split.train.count ? split.train : { images: split.train.images.subarray(0, limit * 3072), labels: split.train.labels.subarray(0, limit), count: limit };
    this.validation = split.validation;
    this.checksum = datasetChecksum(data);
    // The coordinator's own replica never trains: it holds the initial weights and exports models.
    this.exporter = new Replica(buildModel(config.model, config.seed, config.init));
    this.plateau = createPlateauState(config.lr);
    if (opts.resume) {
      this.exporter.setState(opts.resume.state);
      this.plateau = opts.resume.meta.plateau;
      this.globalStep = opts.resume.meta.step;
    }
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
    return 2 * this.slowestStepMs;
  }

  get bufferFloats(): number {
    return this.exporter.bufferLength;
  }

  // ---- events from the WorkerHub ----

  onHello(conn: WorkerConnection): void {
    if (this.over) {
      conn.close(CLOSE.runOver, 'the run is over');
      return;
    }
    const count = this.workers.length + this.joining.length;
    if (count >= this.opts.membership.maxWorkers) {
      conn.close(CLOSE.runFull, `the run already has ${count} workers (--max-workers ${this.opts.membership.maxWorkers})`);
      return;
    }
    // Provisional rank: the one it gets at the next regroup unless someone leaves first.
    conn.rank = count;
    this.joining.push(conn);
    const h = conn.hello!;
    this.opts.log('info', `worker joined: ${JSON.stringify(h.host)} (pid ${h.pid}), ${JSON.stringify(h.backend)} on ${JSON.stringify(h.device)}${this.groupId > 0 ? '; it takes part from the next step' : ''}`);
    this.record({ kind: 'worker', t: Date.now(), rank: conn.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'joining' });
    this.sendWelcomeAndData(conn);
    this.changed();
  }

  onMessage(conn: WorkerConnection, m: WorkerMessage): void {
    switch (m.type) {
      case 'failure':
        this.opts.log('error', `${conn.label} failed: ${m.message}`);
        conn.close(1011, 'worker failed');
        return;
      case 'ready':
        if (m.phase === 'data') {
          this.dataReady.add(conn);
          this.changed();
          return;
        }
        break;
      case 'star-part':
        this.star?.onPart(conn, m.op, m.data);
        return;
    }
    if (!this.offer(conn, m)) {
      // Not awaited yet (a fast worker can answer before the coordinator starts waiting): keep it.
      if (this.unclaimed.filter((u) => u.conn === conn).length >= 16) {
        conn.close(1002, `unexpected '${m.type}'`);
        return;
      }
      this.unclaimed.push({ conn, m });
    }
  }

  onGone(conn: WorkerConnection, reason: string): void {
    if (this.over) return;
    const h = conn.hello;
    const wasMember = this.workers.includes(conn);
    const wasJoining = this.joining.includes(conn);
    if (!wasMember && !wasJoining) return;
    this.joining = this.joining.filter((c) => c !== conn);
    this.unclaimed = this.unclaimed.filter((u) => u.conn !== conn);
    if (h) this.record({ kind: 'worker', t: Date.now(), rank: conn.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'gone', reason });
    if (wasMember) {
      this.workers = this.workers.filter((c) => c !== conn);
      this.opts.log('warn', `${conn.label} left (${reason}); ${this.workers.length} worker(s) remain: redoing the step in flight with them`);
      this.record({ kind: 'message', t: Date.now(), level: 'warn', text: `rank ${conn.rank} (${h?.host ?? '?'}) left: ${reason}` });
      this.breakGroup(`rank ${conn.rank} left: ${reason}`);
    }
    this.changed();
  }

  // ---- the run ----

  async run(): Promise<EndRecord> {
    const started = performance.now();
    let lastTest: EvalSummary | null = null;
    try {
      const total = this.stepsPerEpoch * this.config.epochs;
      let tally = new EpochTally(Math.floor(this.globalStep / this.stepsPerEpoch));
      while (this.globalStep < total) {
        await this.ensureGroup();
        if (this.interrupted) {
          const settled = this.settleInterrupted(this.interrupted, tally);
          this.interrupted = null;
          if (settled) {
            const inEpochDone = settled.step % this.stepsPerEpoch;
            if (inEpochDone === this.stepsPerEpoch - 1) lastTest = await this.endEpoch(settled.epoch, tally);
            continue;
          }
        }
        const step = this.globalStep;
        const epoch = Math.floor(step / this.stepsPerEpoch);
        const inEpoch = step % this.stepsPerEpoch;
        if (tally.epoch !== epoch) tally = new EpochTally(epoch);
        if (inEpoch === 0 && tally.seen === 0) this.progress.start(`epoch ${epoch + 1}/${this.config.epochs}`, this.stepsPerEpoch);
        const done = await this.attempt(() => this.runStep(step, epoch, inEpoch, tally));
        if (done === null) continue;
        this.globalStep = step + 1;
        if (inEpoch === this.stepsPerEpoch - 1) lastTest = await this.endEpoch(epoch, tally);
      }
      const end: EndRecord = { kind: 'end', t: Date.now(), status: 'completed', epochs: this.config.epochs, steps: this.globalStep, wallSec: (performance.now() - started) / 1000, test: lastTest };
      if (this.workers.length > 0) await this.retrying(() => this.syncExporter());
      await this.exportModel();
      this.record(end);
      this.finish(true, 'run completed');
      return end;
    } catch (caught) {
      this.progress.stop();
      // A metrics write that failed first (from a socket event) is the one to name, not a later write it led to.
      const first = this.failure instanceof WriteFailure ? this.failure : caught;
      const err = first instanceof WriteFailure ? await this.explain(first) : caught;
      const reason = err instanceof Error ? err.message : String(err);
      const end: EndRecord = { kind: 'end', t: Date.now(), status: 'failed', reason, epochs: this.config.epochs, steps: this.globalStep, wallSec: (performance.now() - started) / 1000, test: lastTest };
      this.record(end);
      this.finish(false, `run failed: ${reason}`);
      throw err instanceof GradsyncError ? err : new GradsyncError('E_RUN', reason);
    }
  }

  /** Runs `fn`; a membership change makes it return null (the caller regroups and redoes). */
  private async attempt<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof MembershipChange) return null;
      throw err;
    }
  }

  /** Runs `fn` until it completes without a membership change, regrouping between tries. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.ensureGroup();
      const result = await this.attempt(fn);
      if (result !== null) return result;
    }
  }

  private async runStep(step: number, epoch: number, inEpoch: number, tally: EpochTally): Promise<true> {
    const t0 = performance.now();
    const batch = globalBatchIndices(epochPermutation(this.config.seed, epoch, this.train.count), inEpoch, this.config.batchSize);
    const reportHash = (step + 1) % this.config.hashEvery === 0 || inEpoch === this.stepsPerEpoch - 1;
    const op = this.nextOp++;
    const lr = this.plateau.lr;
    const members = [...this.workers];
    const answers = this.gather(['step-done', 'step-aborted'], (m) => (m.type === 'step-done' || m.type === 'step-aborted') && m.op === op, members, DEADLINES.step);
    for (const w of members) {
      const { start, end } = shardOfBatch(batch.length, members.length, w.rank);
      w.send({ type: 'step', step, epoch, lr, indices: indicesToBytes(batch.subarray(start, end)), globalCount: batch.length, op, reportHash });
    }
    let got: Map<WorkerConnection, WorkerMessage>;
    try {
      got = await answers;
    } catch (err) {
      if (err instanceof MembershipChange) this.interrupted = { step, epoch, samples: batch.length, lr, started: t0, partial: err.partial };
      throw err;
    }
    const aborted = [...got.values()].find((m) => m.type === 'step-aborted');
    if (aborted) {
      this.interrupted = { step, epoch, samples: batch.length, lr, started: t0, partial: got };
      this.breakGroup(`step ${step}: ${(aborted as Extract<WorkerMessage, { type: 'step-aborted' }>).reason}`);
      throw new MembershipChange('a reduction failed');
    }
    const done = new Map([...got.entries()].map(([c, m]) => [c.rank, m as StepDoneMsg]));
    const stats: WorkerStepStats[] = [...done.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([rank, d]) => workerStepStats(rank, d));
    const n = stats.reduce((a, x) => a + x.count, 0);
    const applied = [...done.values()].every((d) => d.applied);
    if (!applied) this.onNonFinite(step);
    else this.nonFiniteInRow = 0;
    const stepLoss = stats.reduce((a, x) => a + x.loss * x.count, 0) / n;
    const stepCorrect = stats.reduce((a, x) => a + x.correct, 0);
    if (applied) {
      tally.lossSum += stepLoss * n;
      tally.correct += stepCorrect;
    }
    tally.seen += n;
    const now = performance.now();
    this.slowestStepMs = Math.max(this.slowestStepMs * 0.9, now - t0);
    this.record({
      kind: 'step',
      t: Date.now(),
      step,
      epoch,
      loss: stepLoss,
      accuracy: stepCorrect / n,
      samples: n,
      lr,
      imagesPerSec: (n * 1000) / (now - t0),
      workers: stats,
      hashes: reportHash ? stats.map((x) => done.get(x.rank)!.hash ?? '') : undefined,
    });
    this.progress.update(inEpoch + 1, { ips: (tally.seen * 1000) / (now - tally.started), loss: tally.lossSum / Math.max(1, tally.seen), acc: tally.correct / Math.max(1, tally.seen) });
    if (reportHash) await this.checkReplicasAgree(done, step);
    return true;
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
    this.progress.stop();
    const trainSec = (performance.now() - tally.started) / 1000;
    const validation = this.validation.count > 0 ? await this.retrying(() => this.evaluate('validation', this.validation.count, true)) : null;
    const test = await this.retrying(() => this.evaluate('test', this.data.test.count, false));
    const lr = this.plateau.lr;
    if (validation) this.plateau = plateauStep(this.plateau, validation.loss, this.config.plateau);
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
      nextLr: this.plateau.lr,
      durationSec: (performance.now() - tally.started) / 1000,
      imagesPerSec: tally.seen / trainSec,
    });
    this.opts.log(
      'info',
      `epoch ${epoch + 1}/${this.config.epochs}: train loss ${(tally.lossSum / applied).toFixed(4)} acc ${(tally.correct / applied).toFixed(4)}` +
        (validation ? ` | val loss ${validation.loss.toFixed(4)} acc ${validation.accuracy.toFixed(4)}` : '') +
        ` | test acc ${test.accuracy.toFixed(4)} | ${(tally.seen / trainSec).toFixed(1)} img/s` +
        (this.plateau.lr !== lr ? ` | lr ${lr} -> ${this.plateau.lr}` : ''),
    );
    await this.retrying(() => this.checkpoint(epoch + 1));
    return test;
  }

  /** Sharded evaluation: each rank takes a contiguous range; the sums add up exactly. */
  private async evaluate(split: 'validation' | 'test', count: number, withPreview: boolean): Promise<EvalSummary> {
    const evalId = this.nextReq++;
    const members = [...this.workers];
    const previewCount = withPreview ? Math.min(PREVIEW_COUNT, count) : 0;
    const previewIdx = Array.from({ length: previewCount }, (_, i) => Math.floor((i * count) / previewCount));
    const answers = this.gather(['eval-done'], (m) => m.type === 'eval-done' && m.evalId === evalId, members, DEADLINES.evaluation);
    for (const w of members) {
      const { start, end } = shardOfBatch(count, members.length, w.rank);
      w.send({ type: 'eval', evalId, split, start, end, preview: w.rank === 0 && previewIdx.length ? previewIdx : undefined });
    }
    const got = [...(await answers).entries()].map(([c, m]) => [c.rank, m as EvalDoneMsg] as const);
    const sums = addEvalSums(got.map(([, m]) => m));
    const preview = got.find(([rank]) => rank === 0)?.[1].preview;
    if (preview && previewIdx.length) {
      const pixels = Buffer.alloc(previewIdx.length * 3072);
      previewIdx.forEach((j, i) => pixels.set(this.validation.images.subarray(j * 3072, (j + 1) * 3072), i * 3072));
      this.record({
        kind: 'preview',
        t: Date.now(),
        epoch: Math.max(0, Math.floor((this.globalStep - 1) / this.stepsPerEpoch)),
        pixelsBase64: pixels.toString('base64'),
        labels: previewIdx.map((j) => this.validation.labels[j]),
        predictions: preview.predictions,
        confidences: preview.confidences,
      });
    }
    return summarize(sums);
  }

  private async checkReplicasAgree(done: Map<number, StepDoneMsg>, step: number): Promise<void> {
    const hashes = [...done.entries()].map(([rank, d]) => ({ rank, hash: d.hash ?? '' }));
    const reference = hashes.find((h) => h.rank === 0)!.hash;
    const differ = hashes.filter((h) => h.hash !== reference);
    if (differ.length === 0) return;
    const text = `REPLICAS DIVERGED at step ${step}: rank 0 has weights ${reference}, ${differ.map((d) => `rank ${d.rank} has ${d.hash}`).join(', ')}; broadcasting rank 0's weights`;
    this.opts.log('error', text);
    this.record({ kind: 'message', t: Date.now(), level: 'error', text });
    const ref = await this.fetchState(this.workers[0]);
    const frame = encodeMessage({ type: 'set-state', reason: 'repair', ...stateToWire(ref.state, ref.appliedStep) });
    for (const w of this.workers.slice(1)) w.sendFrame(frame);
  }

  private async fetchState(conn: WorkerConnection): Promise<GroupState> {
    const reqId = this.nextReq++;
    const answer = this.gather(['state'], (m) => m.type === 'state' && m.reqId === reqId, [conn]);
    conn.send({ type: 'get-state', reqId });
    const m = (await answer).get(conn) as Extract<WorkerMessage, { type: 'state' }>;
    const state = { params: floatsFromBytes(m.params).slice(), state: floatsFromBytes(m.state).slice(), adam: { m: floatsFromBytes(m.adamM).slice(), v: floatsFromBytes(m.adamV).slice(), t: m.adamT } };
    return { state, appliedStep: m.appliedStep };
  }

  private async syncExporter(): Promise<true> {
    const ref = await this.fetchState(this.workers[0]);
    this.exporter.setState(ref.state);
    return true;
  }

  private async checkpoint(nextEpoch: number): Promise<true> {
    await this.syncExporter();
    const dir = await writeCheckpoint(
      this.opts.runDir,
      { runName: this.config.runName, model: this.config.model, nextEpoch, step: this.globalStep, plateau: this.plateau },
      this.exporter.getState(),
      (tmp) => saveLayersModel(this.exporter.model, path.join(tmp, 'model'), { classNames: this.data.classNames }),
    );
    this.opts.log('info', `checkpoint written: ${dir}`);
    return true;
  }

  private async exportModel(): Promise<void> {
    const dir = path.join(this.opts.runDir, 'model');
    await saveLayersModel(this.exporter.model, dir, {
      classNames: this.data.classNames,
      input: 'float32 NHWC [n, 32, 32, 3], RGB scaled to [0, 1]',
      output: 'logits over classNames',
      config: this.config,
      weightsHash: this.exporter.weightsHash(),
    });
    this.opts.log('info', `model exported to ${dir} (weights ${this.exporter.weightsHash()})`);
  }

  // ---- membership ----

  /**
   * At a step boundary: admits workers whose data has arrived, and rebuilds the group after a
   * departure. Below --min-workers (or before the first --workers have arrived) it waits.
   */
  private async ensureGroup(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const ready = this.joining.filter((c) => this.dataReady.has(c));
      if (!this.groupDirty && ready.length === 0 && this.workers.length > 0) return;
      const needed = this.groupId === 0 ? this.opts.membership.expectWorkers : this.opts.membership.minWorkers;
      if (this.workers.length + ready.length < needed) {
        const readyCount = this.workers.length + ready.length;
        const receiving = this.joining.length - ready.length;
        const absent = Math.max(0, needed - readyCount - receiving);
        this.opts.log('info', `${this.groupId === 0 ? 'waiting' : 'paused: waiting'}: ${readyCount} of ${needed} worker(s) ready, ${receiving} receiving data, ${absent} not connected yet`);
        await this.nextChange();
        continue;
      }
      try {
        await this.regroup(ready);
        return;
      } catch (err) {
        if (!(err instanceof MembershipChange)) throw err;
      }
    }
  }

  /** One state everywhere, ranks assigned, peer links up: the group is ready for the next step. */
  private async regroup(joiners: WorkerConnection[]): Promise<void> {
    // Answers to the broken group's requests are of no use to the new one.
    this.unclaimed = this.unclaimed.filter((u) => u.m.type === 'ready' || u.m.type === 'failure');
    this.groupId++;
    this.groupDirty = false;
    const groupId = this.groupId;
    // The reference state: the first survivor's (it says which step it holds), or for a new run
    // the coordinator's initial (or resumed) weights.
    const ref: GroupState = this.workers.length > 0 ? await this.fetchState(this.workers[0]) : { state: this.exporter.getState(), appliedStep: this.globalStep - 1 };
    const frame = (reason: 'repair' | 'join' | 'init') => encodeMessage({ type: 'set-state', reason, ...stateToWire(ref.state, ref.appliedStep) });
    const repair = frame('repair');
    for (const w of this.workers.slice(1)) w.sendFrame(repair);
    const join = frame(this.groupId === 1 ? 'init' : 'join');
    for (const j of joiners) j.sendFrame(join);
    this.joining = this.joining.filter((c) => !joiners.includes(c));
    this.workers = [...this.workers, ...joiners];
    this.workers.forEach((w, rank) => (w.rank = rank));
    if (this.globalStep !== ref.appliedStep + 1) {
      this.opts.log('info', `group ${groupId}: continuing from step ${ref.appliedStep + 1} (the survivors' weights hold steps up to ${ref.appliedStep})`);
    }
    this.globalStep = ref.appliedStep + 1;

    const members = [...this.workers];
    const endpoints = this.gather(['endpoint'], (m) => m.type === 'endpoint' && m.groupId === groupId, members);
    for (const w of members) w.send({ type: 'prepare-group', groupId });
    const urls = new Map([...(await endpoints).entries()].map(([c, m]) => [c, (m as Extract<WorkerMessage, { type: 'endpoint' }>).peerUrl]));
    const world = members.length;
    const ringPossible = world > 1 && members.every((w) => urls.get(w));
    if (this.config.allreduce === 'ring' && world > 1 && !ringPossible) {
      throw new GradsyncError('E_CONFIG', '--allreduce ring needs every worker to accept peer links; a worker offered none');
    }
    const algorithm = this.config.allreduce === 'star' || !ringPossible ? 'star' : 'ring';
    this.star = algorithm === 'star' ? new StarRelay(members) : null;
    const peers = algorithm === 'ring' ? members.map((w) => urls.get(w)!) : [];
    const ready = this.gather(['ready'], (m) => m.type === 'ready' && m.phase === 'group' && m.groupId === groupId, members);
    for (const w of members) w.send({ type: 'group', algorithm, rank: w.rank, world, peers, groupId });
    await ready;
    if (groupId > 1) this.stats.regroups++;
    this.opts.log('info', `group ${groupId}: ${world} worker(s), ${world === 1 ? 'no all-reduce needed' : `${algorithm} all-reduce`}, from step ${this.globalStep}`);
    for (const w of members) {
      const h = w.hello!;
      this.record({ kind: 'worker', t: Date.now(), rank: w.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'training' });
    }
  }

  /** The group is broken: abandon what is in flight everywhere and regroup at the next boundary. */
  private breakGroup(reason: string): void {
    this.groupDirty = true;
    const frame = encodeMessage({ type: 'abort', reason: reason.slice(0, 1900) });
    for (const w of this.workers) w.sendFrame(frame);
    this.star = null;
    for (const c of this.collectors) {
      const err = new MembershipChange(reason);
      err.partial = c.got;
      c.reject(err);
    }
    this.collectors.clear();
  }

  /**
   * After a regroup: was the interrupted step applied? If the group's weights include it (its
   * sum was complete before the member left), it counts, from the answers that arrived;
   * otherwise it is redone. Returns the step when it counted.
   */
  private settleInterrupted(i: InterruptedStep, tally: EpochTally): InterruptedStep | null {
    if (this.globalStep <= i.step) {
      this.stats.redoneSteps++;
      this.opts.log('info', `step ${i.step} is redone by the new group`);
      return null;
    }
    const done = [...i.partial.entries()].filter(([, m]) => m.type === 'step-done') as [WorkerConnection, StepDoneMsg][];
    const stats: WorkerStepStats[] = done.map(([c, d]) => workerStepStats(c.rank, d));
    const reported = stats.reduce((a, x) => a + x.count, 0);
    const loss = reported ? stats.reduce((a, x) => a + x.loss * x.count, 0) / reported : 0;
    const correct = stats.reduce((a, x) => a + x.correct, 0);
    if (tally.epoch !== i.epoch) Object.assign(tally, new EpochTally(i.epoch));
    tally.lossSum += loss * i.samples;
    tally.correct += reported ? (correct * i.samples) / reported : 0;
    tally.seen += i.samples;
    this.record({
      kind: 'step',
      t: Date.now(),
      step: i.step,
      epoch: i.epoch,
      loss,
      accuracy: reported ? correct / reported : 0,
      samples: i.samples,
      lr: i.lr,
      imagesPerSec: (i.samples * 1000) / (performance.now() - i.started),
      workers: stats,
      recovered: true,
    });
    this.opts.log('info', `step ${i.step} had been applied by the group before the member left: it counts`);
    return i;
  }

  private sendWelcomeAndData(conn: WorkerConnection): void {
    const d = this.data;
    conn.send({
      type: 'welcome',
      v: 1,
      runId: this.opts.runId,
      rank: 0,
      config: this.config as unknown as Record<string, unknown>,
      dataset: { trainCount: d.train.count, testCount: d.test.count, classNames: d.classNames, checksum: this.checksum, source: d.source },
    });
    const parts = [
      ['train-images', d.train.images],
      ['train-labels', d.train.labels],
      ['test-images', d.test.images],
      ['test-labels', d.test.labels],
    ] as const;
    for (const [part, bytes] of parts) {
      for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
        conn.send({ type: 'data', part, offset, data: bytes.subarray(offset, Math.min(bytes.length, offset + CHUNK_BYTES)) });
      }
    }
  }

  // ---- waiting for answers ----

  /**
   * Waits for one matching answer from each of `from`. A connection that has not answered within
   * `deadlineMs` is closed (and so leaves the group): a silent or rogue member can delay a run,
   * never hang it.
   */
  private gather(
    types: readonly WorkerMessage['type'][],
    key: (m: WorkerMessage) => boolean,
    from: WorkerConnection[],
    deadlineMs = DEADLINES.control,
  ): Promise<Map<WorkerConnection, WorkerMessage>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      if (from.length === 0) return resolve(new Map());
      const collector: Collector = { types, from: new Set(from), key, got: new Map(), resolve, reject };
      const timer = setTimeout(() => {
        if (!this.collectors.has(collector)) return;
        for (const c of from) if (!collector.got.has(c)) c.close(1008, `no '${types[0]}' within ${Math.round(deadlineMs / 1000)} s`);
      }, deadlineMs);
      timer.unref();
      const settle = <T,>(f: (x: T) => void) => (x: T) => {
        clearTimeout(timer);
        f(x);
      };
      collector.resolve = settle(resolve);
      collector.reject = settle(reject);
      this.collectors.add(collector);
      const waiting = this.unclaimed;
      this.unclaimed = [];
      for (const u of waiting) if (!this.offer(u.conn, u.m)) this.unclaimed.push(u);
    });
  }

  /** Hands a message to the collector waiting for it; false when none is. */
  private offer(conn: WorkerConnection, m: WorkerMessage): boolean {
    for (const c of this.collectors) {
      if (c.types.includes(m.type) && c.from.has(conn) && c.key(m)) {
        if (c.got.has(conn)) {
          conn.close(1002, `duplicate '${m.type}'`);
          return true;
        }
        c.got.set(conn, m);
        if (c.got.size === c.from.size) {
          this.collectors.delete(c);
          c.resolve(c.got);
        }
        return true;
      }
    }
    return false;
  }

  private changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  private finish(ok: boolean, reason: string): void {
    this.over = true;
    const frame = encodeMessage({ type: 'done', ok, reason });
    for (const w of [...this.workers, ...this.joining]) w.sendFrame(frame);
  }

  /** Stops the run from outside (a signal): waiting and in-flight work fail with `reason`. */
  stop(reason: string): void {
    this.fail(new GradsyncError('E_STOPPED', reason));
  }

  /** Ends the run at its next wait with `error` (the first one wins). */
  private fail(error: GradsyncError): void {
    if (this.failure) return;
    this.failure = error;
    for (const c of this.collectors) c.reject(this.failure);
    this.collectors.clear();
    this.changed();
  }

  private explain(failure: WriteFailure): Promise<GradsyncError> {
    const runDir = this.opts.runDir;
    return explainWriteFailure(failure, { runDir, epochs: this.config.epochs, resumeCommand: this.opts.resumeCommand ?? `--resume ${runDir}` });
  }

  /**
   * Publishes a record (metrics.jsonl, dashboard). Records are also written from socket events,
   * outside the run loop: a failed write there stops the run at its next wait, not the process.
   */
  private record(r: MetricRecord): void {
    try {
      this.opts.metrics.publish(r);
    } catch (err) {
      if (!(err instanceof WriteFailure)) throw err;
      this.fail(err);
    }
  }
}
