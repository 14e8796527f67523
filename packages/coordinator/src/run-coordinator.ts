import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { StarReductionHub } from '@gradsync/core/allreduce';
import type { RunConfig } from '@gradsync/core/config';
import { type Cifar10, type CifarSplit, epochPermutation, globalBatchIndices, shardOfBatch, splitValidation, stepsPerEpoch } from '@gradsync/core/data';
import type { EndRecord, EvalSummary, MetricRecord, WorkerStepStats } from '@gradsync/core/metrics';
import { buildModel, saveLayersModel } from '@gradsync/core/model';
import { EpochProgress } from '@gradsync/core/progress';
import { datasetChecksum, encodeMessage, floatsFromBytes, floatsToBytes, indicesToBytes, type EvalDoneMsg, type StepDoneMsg, type WorkerMessage } from '@gradsync/core/protocol';
import { addEvalSums, createPlateauState, type EvalSums, plateauStep, type PlateauState, Replica, type ReplicaState } from '@gradsync/core/train';
import { type Checkpoint, writeCheckpoint } from './checkpoint';
import type { WorkerConnection } from './worker-hub';

const CHUNK_BYTES = 4 << 20;
const PREVIEW_COUNT = 16;

export interface MetricsSink {
  publish(record: MetricRecord): void;
}

interface Collector {
  type: WorkerMessage['type'];
  /** Ranks that must answer. */
  from: Set<number>;
  key: (m: WorkerMessage) => boolean;
  got: Map<number, WorkerMessage>;
  resolve: (got: Map<number, WorkerMessage>) => void;
  reject: (err: Error) => void;
}

function summarize(s: EvalSums): EvalSummary {
  return { loss: s.count ? s.lossSum / s.count : 0, accuracy: s.count ? s.correct / s.count : 0, count: s.count, confusion: s.confusion };
}

/** Splits [0, n) into `parts` contiguous ranges differing in size by at most one. */
function evenRanges(n: number, parts: number): { start: number; end: number }[] {
  return Array.from({ length: parts }, (_, r) => shardOfBatch(n, parts, r));
}

/**
 * Owns a run: admits workers, sends each the data and the weights, schedules every step
 * (which samples each rank takes), runs the star reduction when chosen, evaluates sharded,
 * decides the learning rate, checks that replicas agree, checkpoints and exports the model.
 */
export class RunCoordinator {
  private readonly workers: WorkerConnection[] = [];
  private readonly collectors = new Set<Collector>();
  private unclaimed: { conn: WorkerConnection; m: WorkerMessage }[] = [];
  private star: StarReductionHub | null = null;
  private failure: GradsyncError | null = null;
  private over = false;
  private readonly train: CifarSplit;
  private readonly validation: CifarSplit;
  private readonly checksum: string;
  private readonly exporter: Replica;
  private plateau: PlateauState;
  private startEpoch = 0;
  private globalStep = 0;
  private nextOp = 1;
  private nextReq = 1;
  private admitted: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly progress = new EpochProgress();

  constructor(
    private readonly config: RunConfig,
    private readonly data: Cifar10,
    private readonly opts: {
      runDir: string;
      runId: string;
      expectWorkers: number;
      metrics: MetricsSink;
      log: (level: 'info' | 'warn' | 'error', line: string) => void;
      resume: Checkpoint | null;
    },
  ) {
    const split = splitValidation(data.train, config.validationCount);
    const limit = config.limitTrain ?? split.train.count;
    this.train = limit >= split.train.count ? split.train : { images: split.train.images.subarray(0, limit * 3072), labels: split.train.labels.subarray(0, limit), count: limit };
    this.validation = split.validation;
    this.checksum = datasetChecksum(data);
    // The coordinator's own replica never trains: it makes the initial weights and exports models.
    this.exporter = new Replica(buildModel(config.model, config.seed));
    this.plateau = createPlateauState(config.lr);
    if (opts.resume) {
      this.exporter.setState(opts.resume.state);
      this.plateau = opts.resume.meta.plateau;
      this.startEpoch = opts.resume.meta.nextEpoch;
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

  get bufferFloats(): number {
    return this.exporter.bufferLength;
  }

  // ---- events from the WorkerHub ----

  onHello(conn: WorkerConnection): void {
    if (this.workers.length >= this.opts.expectWorkers) {
      conn.close(4002, `the run already has its ${this.opts.expectWorkers} workers`);
      return;
    }
    conn.rank = this.workers.length;
    this.workers.push(conn);
    const h = conn.hello!;
    this.opts.log('info', `worker joined: rank ${conn.rank} on ${h.host} (pid ${h.pid}), ${h.backend} on ${h.device}`);
    this.record({ kind: 'worker', t: Date.now(), rank: conn.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'joining' });
    this.sendDataAndWeights(conn);
    if (this.workers.length === this.opts.expectWorkers) this.admitted?.resolve();
  }

  onMessage(conn: WorkerConnection, m: WorkerMessage): void {
    if (conn.rank < 0) return;
    if (m.type === 'failure') {
      this.abort(new GradsyncError('E_WORKER', `${conn.label} failed: ${m.message}`));
      return;
    }
    if (m.type === 'star-part') {
      this.onStarPart(conn, m.op, m.data);
      return;
    }
    if (!this.offer(conn, m)) {
      // Not awaited yet (a fast worker can answer before the coordinator starts waiting): keep it.
      if (this.unclaimed.length >= 64) {
        conn.close(1002, `unexpected '${m.type}'`);
        return;
      }
      this.unclaimed.push({ conn, m });
    }
  }

  /** Hands a message to the collector waiting for it; false when none is. */
  private offer(conn: WorkerConnection, m: WorkerMessage): boolean {
    for (const c of this.collectors) {
      if (c.type === m.type && c.from.has(conn.rank) && c.key(m)) {
        if (c.got.has(conn.rank)) {
          conn.close(1002, `duplicate '${m.type}'`);
          return true;
        }
        c.got.set(conn.rank, m);
        if (c.got.size === c.from.size) {
          this.collectors.delete(c);
          c.resolve(c.got);
        }
        return true;
      }
    }
    return false;
  }

  onGone(conn: WorkerConnection, reason: string): void {
    if (conn.rank < 0 || !this.workers.includes(conn) || this.over) return;
    const h = conn.hello!;
    this.record({ kind: 'worker', t: Date.now(), rank: conn.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'gone', reason });
    this.abort(new GradsyncError('E_WORKER_GONE', `${conn.label} left: ${reason}`));
  }

  // ---- the run ----

  async run(): Promise<EndRecord> {
    const started = performance.now();
    let lastTest: EvalSummary | null = null;
    try {
      if (this.workers.length < this.opts.expectWorkers) {
        this.opts.log('info', `waiting for ${this.opts.expectWorkers - this.workers.length} more worker(s)`);
        await this.guard(new Promise<void>((resolve, reject) => (this.admitted = { resolve, reject })));
      }
      await this.gather('ready', (m) => m.type === 'ready' && m.phase === 'data');
      await this.setUpGroup();
      for (const w of this.workers) {
        const h = w.hello!;
        this.record({ kind: 'worker', t: Date.now(), rank: w.rank, host: h.host, pid: h.pid, backend: h.backend, device: h.device, status: 'training' });
      }
      for (let epoch = this.startEpoch; epoch < this.config.epochs; epoch++) {
        lastTest = await this.runEpoch(epoch);
      }
      const end: EndRecord = { kind: 'end', t: Date.now(), status: 'completed', epochs: this.config.epochs, steps: this.globalStep, wallSec: (performance.now() - started) / 1000, test: lastTest };
      await this.exportModel();
      this.record(end);
      this.finish(true, 'run completed');
      return end;
    } catch (err) {
      this.progress.stop();
      const reason = err instanceof Error ? err.message : String(err);
      const end: EndRecord = { kind: 'end', t: Date.now(), status: 'failed', reason, epochs: this.config.epochs, steps: this.globalStep, wallSec: (performance.now() - started) / 1000, test: lastTest };
      this.record(end);
      this.finish(false, `run failed: ${reason}`);
      throw err instanceof GradsyncError ? err : new GradsyncError('E_RUN', reason);
    }
  }

  private async runEpoch(epoch: number): Promise<EvalSummary | null> {
    const epochStart = performance.now();
    const perm = epochPermutation(this.config.seed, epoch, this.train.count);
    const steps = this.stepsPerEpoch;
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let last = performance.now();
    const lr = this.plateau.lr;
    this.progress.start(`epoch ${epoch + 1}/${this.config.epochs}`, steps);
    for (let s = 0; s < steps; s++) {
      const batch = globalBatchIndices(perm, s, this.config.batchSize);
      const reportHash = (this.globalStep + 1) % this.config.hashEvery === 0 || s === steps - 1;
      const op = this.nextOp++;
      const step = this.globalStep;
      for (const w of this.workers) {
        const { start, end } = shardOfBatch(batch.length, this.workers.length, w.rank);
        w.send({ type: 'step', step, epoch, lr, indices: indicesToBytes(batch.subarray(start, end)), globalCount: batch.length, op, reportHash });
      }
      const done = (await this.gather('step-done', (m) => m.type === 'step-done' && m.step === step)) as Map<number, StepDoneMsg>;
      const now = performance.now();
      const stats: WorkerStepStats[] = [...done.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([rank, d]) => ({ rank, loss: d.loss, correct: d.correct, count: d.count, computeMs: d.computeMs, allreduceMs: d.allreduceMs, waitMs: d.waitMs }));
      const n = stats.reduce((a, x) => a + x.count, 0);
      const stepLoss = stats.reduce((a, x) => a + x.loss * x.count, 0) / n;
      const stepCorrect = stats.reduce((a, x) => a + x.correct, 0);
      lossSum += stepLoss * n;
      correct += stepCorrect;
      seen += n;
      this.record({ kind: 'step', t: Date.now(), step, epoch, loss: stepLoss, accuracy: stepCorrect / n, samples: n, lr, imagesPerSec: (n * 1000) / (now - last), workers: stats, hashes: reportHash ? stats.map((x) => done.get(x.rank)!.hash ?? '') : undefined });
      last = now;
      this.globalStep++;
      this.progress.update(s + 1, { ips: (seen * 1000) / (now - epochStart), loss: lossSum / seen, acc: correct / seen });
      if (reportHash) await this.checkReplicasAgree(done, step);
    }
    this.progress.stop();
    const trainSec = (performance.now() - epochStart) / 1000;
    const validation = this.validation.count > 0 ? await this.evaluate('validation', this.validation.count, true) : null;
    const test = await this.evaluate('test', this.data.test.count, false);
    if (validation) this.plateau = plateauStep(this.plateau, validation.loss, this.config.plateau);
    this.record({
      kind: 'epoch',
      t: Date.now(),
      epoch,
      step: this.globalStep,
      trainLoss: lossSum / seen,
      trainAccuracy: correct / seen,
      validation,
      test,
      lr,
      nextLr: this.plateau.lr,
      durationSec: (performance.now() - epochStart) / 1000,
      imagesPerSec: seen / trainSec,
    });
    this.opts.log(
      'info',
      `epoch ${epoch + 1}/${this.config.epochs}: train loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)}` +
        (validation ? ` | val loss ${validation.loss.toFixed(4)} acc ${validation.accuracy.toFixed(4)}` : '') +
        ` | test acc ${test.accuracy.toFixed(4)} | ${(seen / trainSec).toFixed(1)} img/s` +
        (this.plateau.lr !== lr ? ` | lr ${lr} -> ${this.plateau.lr}` : ''),
    );
    await this.checkpoint(epoch + 1);
    return test;
  }

  /** Sharded evaluation: each rank takes a contiguous range; the sums add up exactly. */
  private async evaluate(split: 'validation' | 'test', count: number, withPreview: boolean): Promise<EvalSummary> {
    const evalId = this.nextReq++;
    const ranges = evenRanges(count, this.workers.length);
    const previewIdx = withPreview ? Array.from({ length: Math.min(PREVIEW_COUNT, count) }, (_, i) => Math.floor((i * count) / Math.min(PREVIEW_COUNT, count))) : [];
    for (const w of this.workers) {
      w.send({ type: 'eval', evalId, split, start: ranges[w.rank].start, end: ranges[w.rank].end, preview: w.rank === 0 && previewIdx.length ? previewIdx : undefined });
    }
    const got = (await this.gather('eval-done', (m) => m.type === 'eval-done' && m.evalId === evalId)) as Map<number, EvalDoneMsg>;
    const sums = addEvalSums([...got.values()]);
    const preview = got.get(0)?.preview;
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
    const state = await this.fetchState();
    const frame = encodeMessage({ type: 'set-state', reason: 'repair', ...stateToWire(state) });
    for (const w of this.workers) if (w.rank !== 0) w.sendFrame(frame);
  }

  private async fetchState(): Promise<ReplicaState> {
    const reqId = this.nextReq++;
    const rank0 = this.workers[0];
    const p = this.gatherOne('state', rank0, (m) => m.type === 'state' && m.reqId === reqId);
    rank0.send({ type: 'get-state', reqId });
    const m = (await p) as Extract<WorkerMessage, { type: 'state' }>;
    return { params: floatsFromBytes(m.params).slice(), state: floatsFromBytes(m.state).slice(), adam: { m: floatsFromBytes(m.adamM).slice(), v: floatsFromBytes(m.adamV).slice(), t: m.adamT } };
  }

  private async checkpoint(nextEpoch: number): Promise<void> {
    const state = await this.fetchState();
    this.exporter.setState(state);
    const dir = await writeCheckpoint(
      this.opts.runDir,
      { runName: this.config.runName, model: this.config.model, nextEpoch, step: this.globalStep, plateau: this.plateau },
      state,
      (tmp) => saveLayersModel(this.exporter.model, path.join(tmp, 'model'), { classNames: this.data.classNames }),
    );
    this.opts.log('info', `checkpoint written: ${dir}`);
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

  /** The final replicas' weight hash (after the run). */
  get finalWeightsHash(): string {
    return this.exporter.weightsHash();
  }

  private async setUpGroup(): Promise<void> {
    const world = this.workers.length;
    const ringPossible = world > 1 && this.workers.every((w) => w.hello!.peerUrl);
    if (this.config.allreduce === 'ring' && world > 1 && !ringPossible) {
      throw new GradsyncError('E_CONFIG', '--allreduce ring needs every worker to accept peer links; a worker offered none');
    }
    const algorithm = this.config.allreduce === 'star' || !ringPossible ? 'star' : 'ring';
    this.star = algorithm === 'star' ? new StarReductionHub({ world }) : null;
    const peers = algorithm === 'ring' ? this.workers.map((w) => w.hello!.peerUrl!) : [];
    for (const w of this.workers) w.send({ type: 'group', algorithm, rank: w.rank, world, peers, groupId: 1 });
    await this.gather('ready', (m) => m.type === 'ready' && m.phase === 'group');
    this.opts.log('info', `${world} worker(s) ready, ${world === 1 ? 'no all-reduce needed' : `${algorithm} all-reduce`}`);
  }

  private sendDataAndWeights(conn: WorkerConnection): void {
    const d = this.data;
    conn.send({
      type: 'welcome',
      v: 1,
      runId: this.opts.runId,
      rank: conn.rank,
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
    conn.send({ type: 'set-state', reason: 'init', ...stateToWire(this.exporter.getState()) });
  }

  private onStarPart(conn: WorkerConnection, op: number, bytes: Uint8Array): void {
    if (!this.star) {
      conn.close(1002, 'star-part while the group uses ring all-reduce');
      return;
    }
    let sum: Float32Array | null;
    try {
      sum = this.star.contribute(op, conn.rank, floatsFromBytes(bytes, 'star part').slice());
    } catch (err) {
      conn.close(1002, (err as Error).message);
      return;
    }
    if (sum) {
      const frame = encodeMessage({ type: 'star-sum', op, data: floatsToBytes(sum) });
      for (const w of this.workers) w.sendFrame(frame);
    }
  }

  private gather(type: WorkerMessage['type'], key: (m: WorkerMessage) => boolean, from = this.workers.map((w) => w.rank)): Promise<Map<number, WorkerMessage>> {
    return this.guard(
      new Promise((resolve, reject) => {
        if (from.length === 0) return resolve(new Map());
        this.collectors.add({ type, from: new Set(from), key, got: new Map(), resolve, reject });
        const waiting = this.unclaimed;
        this.unclaimed = [];
        for (const u of waiting) if (!this.offer(u.conn, u.m)) this.unclaimed.push(u);
      }),
    );
  }

  private async gatherOne(type: WorkerMessage['type'], conn: WorkerConnection, key: (m: WorkerMessage) => boolean): Promise<WorkerMessage> {
    const got = await this.gather(type, key, [conn.rank]);
    return got.get(conn.rank)!;
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return p;
  }

  private abort(err: GradsyncError): void {
    if (this.failure) return;
    this.failure = err;
    for (const c of this.collectors) c.reject(err);
    this.collectors.clear();
    this.admitted?.reject(err);
    this.admitted = null;
    this.opts.log('error', err.message);
  }

  private finish(ok: boolean, reason: string): void {
    this.over = true;
    const frame = encodeMessage({ type: 'done', ok, reason });
    for (const w of this.workers) w.sendFrame(frame);
  }

  private record(r: MetricRecord): void {
    this.opts.metrics.publish(r);
  }
}

function stateToWire(s: ReplicaState) {
  return { params: floatsToBytes(s.params), state: floatsToBytes(s.state), adamM: floatsToBytes(s.adam.m), adamV: floatsToBytes(s.adam.v), adamT: s.adam.t };
}
