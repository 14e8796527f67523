import { hostname } from 'node:os';
import { GradsyncError } from '@gradsync/core';
import { augmentParamsFor } from '@gradsync/core/augment';
import { type RunConfig, validateRunConfig } from '@gradsync/core/config';
import type { CifarSplit } from '@gradsync/core/data';
import { buildModel } from '@gradsync/core/model';
import { type CoordinatorMessage, floatsFromBytes, isRefusal, floatsToBytes, indicesFromBytes } from '@gradsync/core/protocol';
import { gatherSamples, Replica, sliceSamples, trainingSplits } from '@gradsync/core/train';
import type { CoordinatorLink } from '../coordinator-link';
import { ProcessUsageSampler } from '../process-usage';
import { type AllReducer } from '../allreduce/index';
import { DatasetReceiver } from './dataset-receiver';
import { StarClient } from './star-client';

/** How a worker joins a ring: where it listens, and how it links up once it knows its neighbours. */
export interface RingProvider {
  /** Where this worker currently accepts ring links (null: it cannot, star only). */
  readonly peerUrl: string | null;
  /** A fresh endpoint for the next group; returns its URL. */
  prepare(): Promise<string | null>;
  join(setup: { rank: number; world: number; peers: string[]; runId: string }): Promise<AllReducer>;
}

export interface SessionEnd {
  ok: boolean;
  reason: string;
  /** The coordinator vanished (not refused, not finished): worth reconnecting. */
  coordinatorLost: boolean;
}

function allFinite(xs: Float32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

/** Stands in between an abort and the next group: any use fails at once. */
function brokenReducer(reason: string): AllReducer {
  return {
    algorithm: 'star',
    allReduceSum: async () => {
      throw new GradsyncError('E_ALLREDUCE', `no all-reduce group (${reason})`);
    },
    close: async () => {},
  };
}

/** Identity reduction for a group of one. */
const soloReducer: AllReducer = { algorithm: 'star', allReduceSum: async (data) => data, close: async () => {} };

type Msg<T extends CoordinatorMessage['type']> = Extract<CoordinatorMessage, { type: T }>;

/**
 * A worker's side of a run, driven by the coordinator's messages, which are handled strictly in
 * order (star sums excepted: they complete an all-reduce the current step is waiting for).
 */
export class WorkerSession {
  private link: CoordinatorLink | null = null;
  private runId = '';
  private config: RunConfig | null = null;
  private receiver: DatasetReceiver | null = null;
  private splits: { train: CifarSplit; validation: CifarSplit; test: CifarSplit } | null = null;
  private replica: Replica | null = null;
  private reducer: AllReducer = soloReducer;
  /** Last global step whose update the replica holds. */
  private appliedStep = -1;
  private star: StarClient | null = null;
  private queue: Promise<void> = Promise.resolve();
  private lastReportAt = performance.now();
  private readonly usage = new ProcessUsageSampler();
  private endResolve!: (end: SessionEnd) => void;
  readonly ended: Promise<SessionEnd> = new Promise((r) => (this.endResolve = r));
  private isOver = false;
  rank = -1;

  constructor(private readonly opts: { ring: RingProvider; log: (line: string) => void; backend: string; device: string; token?: string }) {}

  /** Binds the session to its coordinator link and says hello. */
  attach(link: CoordinatorLink): void {
    this.link = link;
    this.star = new StarClient((m) => link.send(m));
    link.send({
      type: 'hello',
      v: 1,
      token: this.opts.token,
      host: hostname(),
      pid: process.pid,
      backend: this.opts.backend,
      device: this.opts.device,
      peerUrl: this.opts.ring.peerUrl,
    });
    void link.closed.then(({ code, reason }) =>
      this.end(false, `the coordinator closed the link (${code}${reason ? `: ${reason}` : ''})`, !isRefusal(code)),
    );
  }

  onMessage(message: CoordinatorMessage): void {
    if (message.type === 'abort') {
      // Out of band: the step waiting on this all-reduce must fail now, not after a timeout.
      this.opts.log(`all-reduce aborted: ${message.reason}`);
      const reducer = this.reducer;
      this.reducer = brokenReducer(message.reason);
      void reducer.close().catch(() => {});
      return;
    }
    if (message.type === 'star-sum') {
      try {
        this.star?.deliver(message.op, message.data);
      } catch (err) {
        this.fail(err);
      }
      return;
    }
    this.queue = this.queue.then(() => (this.isOver ? undefined : this.process(message))).catch((err) => this.fail(err));
  }

  private async process(m: CoordinatorMessage): Promise<void> {
    switch (m.type) {
      case 'welcome':
        return this.onWelcome(m);
      case 'data':
        return this.onData(m);
      case 'prepare-group': {
        await this.reducer.close().catch(() => {});
        this.reducer = brokenReducer('between groups');
        const peerUrl = await this.opts.ring.prepare();
        this.send({ type: 'endpoint', groupId: m.groupId, peerUrl });
        return;
      }
      case 'set-state':
        return this.onSetState(m);
      case 'group':
        return this.onGroup(m);
      case 'step':
        return this.onStep(m);
      case 'eval':
        return this.onEval(m);
      case 'get-state': {
        const s = this.need(this.replica, 'get-state before welcome').getState();
        this.send({ type: 'state', reqId: m.reqId, appliedStep: this.appliedStep, params: floatsToBytes(s.params), state: floatsToBytes(s.state), adamM: floatsToBytes(s.adam.m), adamV: floatsToBytes(s.adam.v), adamT: s.adam.t });
        return;
      }
      case 'done':
        this.opts.log(`coordinator: ${m.reason}`);
        await this.end(m.ok, m.reason);
        return;
      case 'star-sum':
      case 'abort':
        return;
    }
  }

  private onWelcome(m: Msg<'welcome'>): void {
    this.runId = m.runId;
    this.rank = m.rank;
    this.config = validateRunConfig(m.config as unknown as RunConfig);
    this.receiver = new DatasetReceiver(m.dataset);
    this.replica = new Replica(buildModel(this.config.model, this.config.seed, this.config.init));
    this.opts.log(`joined run ${m.runId} as rank ${m.rank}; receiving ${m.dataset.trainCount + m.dataset.testCount} images`);
  }

  private onData(m: Msg<'data'>): void {
    const receiver = this.need(this.receiver, 'data before welcome');
    receiver.add(m.part, m.offset, m.data);
    if (!receiver.complete) return;
    const data = receiver.finish();
    this.splits = { ...trainingSplits(data.train, this.need(this.config, 'config')), test: data.test };
    this.receiver = null;
    this.send({ type: 'ready', phase: 'data' });
  }

  private onSetState(m: Msg<'set-state'>): void {
    const replica = this.need(this.replica, 'set-state before welcome');
    replica.setState({
      params: floatsFromBytes(m.params, 'params'),
      state: floatsFromBytes(m.state, 'state'),
      adam: { m: floatsFromBytes(m.adamM, 'adam m'), v: floatsFromBytes(m.adamV, 'adam v'), t: m.adamT },
    });
    this.appliedStep = m.appliedStep;
    if (m.reason === 'repair') this.opts.log(`weights replaced by the group's copy (hash ${replica.weightsHash()}, step ${m.appliedStep})`);
  }

  private async onGroup(m: Msg<'group'>): Promise<void> {
    await this.reducer.close().catch(() => {});
    this.rank = m.rank;
    if (m.world === 1) this.reducer = soloReducer;
    else if (m.algorithm === 'star') this.reducer = this.need(this.star, 'star client');
    else this.reducer = await this.opts.ring.join({ rank: m.rank, world: m.world, peers: m.peers, runId: this.runId });
    this.opts.log(`group ${m.groupId}: rank ${m.rank} of ${m.world}, ${m.world === 1 ? 'no all-reduce needed' : `${m.algorithm} all-reduce`}`);
    this.send({ type: 'ready', phase: 'group', groupId: m.groupId });
    this.lastReportAt = performance.now();
  }

  private async onStep(m: Msg<'step'>): Promise<void> {
    const replica = this.need(this.replica, 'step before welcome');
    const config = this.need(this.config, 'config');
    const { train } = this.need(this.splits, 'step before the data set');
    const waitMs = performance.now() - this.lastReportAt;
    const t0 = performance.now();
    const indices = indicesFromBytes(m.indices);
    const batch = gatherSamples(train, indices);
    const augment = Array.from(indices, (i) => augmentParamsFor(config.augment, config.seed, m.epoch, i));
    const out = await replica.computeStep({ ...batch, augment });
    const t1 = performance.now();
    let sum: Float32Array;
    try {
      sum = await this.reducer.allReduceSum(out.buffer, m.op);
    } catch (err) {
      // A member left mid-reduction: nothing is applied; the coordinator regroups and redoes the step.
      this.send({ type: 'step-aborted', step: m.step, op: m.op, reason: (err as Error).message.slice(0, 1900) });
      this.lastReportAt = performance.now();
      return;
    }
    const t2 = performance.now();
    // Every rank holds the same sum, so every rank makes the same choice here.
    const applied = allFinite(sum);
    if (applied) {
      replica.applySummed(sum, m.globalCount, m.lr);
      this.appliedStep = m.step;
    } else {
      this.opts.log(`step ${m.step}: the summed gradient holds NaN or Inf; update skipped on every rank`);
    }
    this.send({
      type: 'step-done',
      step: m.step,
      op: m.op,
      loss: out.loss,
      correct: out.correct,
      count: out.count,
      computeMs: t1 - t0 + (performance.now() - t2),
      allreduceMs: t2 - t1,
      waitMs,
      applied,
      hash: m.reportHash ? replica.weightsHash() : undefined,
      ...this.usage.sample(),
    });
    this.lastReportAt = performance.now();
  }

  private async onEval(m: Msg<'eval'>): Promise<void> {
    const replica = this.need(this.replica, 'eval before welcome');
    const splits = this.need(this.splits, 'eval before the data set');
    const split = m.split === 'validation' ? splits.validation : splits.test;
    if (m.end > split.count || m.start > m.end) throw new GradsyncError('E_PROTOCOL', `eval range ${m.start}..${m.end} outside the ${m.split} split of ${split.count}`);
    const part = sliceSamples(split, m.start, m.end);
    const sums = await replica.evaluate(part.images, part.labels);
    let preview: { predictions: number[]; confidences: number[] } | undefined;
    if (m.preview && m.preview.length > 0) {
      const batch = gatherSamples(split, m.preview);
      const probs = await replica.predictProbabilities(batch.images, m.preview.length);
      preview = { predictions: [], confidences: [] };
      for (let i = 0; i < m.preview.length; i++) {
        const row = probs.subarray(i * 10, i * 10 + 10);
        let best = 0;
        for (let c = 1; c < 10; c++) if (row[c] > row[best]) best = c;
        preview.predictions.push(best);
        preview.confidences.push(row[best]);
      }
    }
    this.send({ type: 'eval-done', evalId: m.evalId, ...sums, preview });
    this.lastReportAt = performance.now();
  }

  private send(message: Parameters<CoordinatorLink['send']>[0]): void {
    this.link?.send(message);
  }

  private need<T>(value: T | null, what: string): T {
    if (value === null) throw new GradsyncError('E_PROTOCOL', `out of order: ${what}`);
    return value;
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.isOver) return;
    this.opts.log(`worker failed: ${message}`);
    this.send({ type: 'failure', message: message.slice(0, 3900) });
    void this.end(false, message);
  }

  private async end(ok: boolean, reason: string, coordinatorLost = false): Promise<void> {
    if (this.isOver) return;
    this.isOver = true;
    await this.reducer.close().catch(() => {});
    await this.star?.close();
    this.link?.close(1000, ok ? 'done' : 'worker stopping');
    this.endResolve({ ok, reason, coordinatorLost });
  }
}
