// Browser-safe entries only (Note [Package entries] in tools/src/architecture): a browser tab bundles this session.
import { GradsyncError } from '@gradsync/core';
import { subOperationId, StarClient } from '@gradsync/collective/browser';
import {
  augmentParamsFor,
  checkUserModel,
  isZooModel,
  modelFromTopology,
  type ModelShape,
  parseRunConfig,
  gatherSamples,
  modelShapeFor,
  type Replica,
  replicaForRun,
  sliceSamples,
  trainingSplits,
} from '@gradsync/train';
import { type CoordinatorMessage, datasetIdentity, floatsFromBytes, isRefusal, floatsToBytes, indicesFromBytes } from '@gradsync/protocol';
import type { CoordinatorLink, ProcessUsage } from './session-ports';
import type { AllReducer, WireDtype } from '@gradsync/collective/browser';
import type { Cifar10 } from '@gradsync/data/browser';
import { DatasetReceiver } from './dataset-receiver';
import { expectPhase, type GroupState, reducerOf, type SessionEnd, type SessionPhase, soloReducer, WITH_DATA, WITH_RUN } from './session-phase';

export type { SessionEnd } from './session-phase';

/** How a worker joins a ring: where it listens, and how it links up once it knows its neighbours. */
export interface RingProvider {
  /** Where this worker currently accepts ring links (null: it cannot, star only). */
  readonly peerUrl: string | null;
  /** A fresh endpoint for the next group; returns its URL. */
  prepare(): Promise<string | null>;
  join(setup: { rank: number; world: number; peers: string[]; runId: string; wireDtype: WireDtype }): Promise<AllReducer>;
}

export interface WorkerSessionOptions {
  ring: RingProvider;
  /** Who this worker is in the coordinator's table: a host name and process id (a browser tab: its own label, pid 0). */
  identity: { host: string; pid: number };
  /** This worker's resource use since the previous call, sent with each step (none where it cannot be measured). */
  sampleUsage?: () => Partial<ProcessUsage>;
  log: (line: string) => void;
  backend: string;
  device: string;
  token?: string;
  /** A star all-reduce with no sum after this long fails the step (default: StarClient's). */
  starTimeoutMs?: number;
  /** The data this worker read itself (--data-dir) and its datasetIdentity: used instead of an upload when it is the run's. */
  localData?: { data: Cifar10; identity: string };
}

function allFinite(xs: Float32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

type Msg<T extends CoordinatorMessage['type']> = Extract<CoordinatorMessage, { type: T }>;

/**
 * A worker's side of a run, driven by the coordinator's messages, which are handled strictly in
 * order (star sums and aborts excepted: they concern the all-reduce the current step waits on).
 * Where the session stands is one value, `phase` (session-phase.ts).
 */
export class WorkerSession {
  private link: CoordinatorLink | null = null;
  private phase: SessionPhase = { name: 'connecting' };
  private queue: Promise<void> = Promise.resolve();
  private lastReportAt = performance.now();
  /** The last step's optimizer time (ms), reported in the next early step-done's computeMs. */
  private lastApplyMs = 0;
  private stepBuffer: Float32Array | null = null;
  private endResolve: (end: SessionEnd) => void = () => {};
  readonly ended: Promise<SessionEnd> = new Promise((r) => (this.endResolve = r));

  constructor(private readonly opts: WorkerSessionOptions) {}

  /** The newest step whose update this replica applied (-1 before the first), for a tab's status line. */
  get appliedStep(): number {
    return 'run' in this.phase ? this.phase.run.appliedStep : -1;
  }

  /** The current phase's name, for tests and logs. */
  get phaseName(): SessionPhase['name'] {
    return this.phase.name;
  }

  /** Binds the session to its coordinator link and says hello. */
  attach(link: CoordinatorLink): void {
    this.link = link;
    link.send({
      type: 'hello',
      v: 1,
      token: this.opts.token,
      host: this.opts.identity.host,
      pid: this.opts.identity.pid,
      backend: this.opts.backend,
      device: this.opts.device,
      peerUrl: this.opts.ring.peerUrl,
      ...(this.opts.localData && { dataChecksum: this.opts.localData.identity }),
    });
    void link.closed.then(({ code, reason }) => this.end(false, `the coordinator closed the link (${code}${reason ? `: ${reason}` : ''})`, !isRefusal(code)));
  }

  /** Leaves the run on purpose (a tab's Leave button): the link closes and the coordinator regroups without this worker. */
  leave(reason: string): Promise<void> {
    return this.end(false, reason);
  }

  onMessage(message: CoordinatorMessage): void {
    if (message.type === 'abort') {
      // Out of band: the step waiting on this all-reduce must fail now, not after a timeout.
      this.opts.log(`all-reduce aborted: ${message.reason}`);
      void this.leaveGroup(message.reason);
      return;
    }
    if (message.type === 'star-sum') {
      const star = this.phase.name === 'in-group' ? this.phase.group.star : null;
      const delivery = star ? star.deliver(message.op, message.data) : { ok: false as const, reason: `star sum for op ${message.op} dropped: no star group` };
      if (!delivery.ok) this.opts.log(delivery.reason);
      return;
    }
    this.queue = this.queue.then(() => (this.phase.name === 'ended' ? undefined : this.process(message))).catch((err) => this.fail(err));
  }

  private async process(m: CoordinatorMessage): Promise<void> {
    switch (m.type) {
      case 'welcome':
        return this.onWelcome(m);
      case 'data':
        return this.onData(m);
      case 'prepare-group': {
        await this.leaveGroup('between groups');
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
        const { run } = expectPhase(this.phase, WITH_RUN, 'get-state');
        const s = run.replica.getState();
        this.send({
          type: 'state',
          reqId: m.reqId,
          appliedStep: run.appliedStep,
          params: floatsToBytes(s.params),
          state: floatsToBytes(s.state),
          adamM: floatsToBytes(s.moments.m),
          adamV: floatsToBytes(s.moments.v),
          adamT: s.moments.t,
        });
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

  private async onWelcome(m: Msg<'welcome'>): Promise<void> {
    expectPhase(this.phase, ['connecting'], 'welcome');
    // Coordinators from before --split send none: they split every batch equally.
    const config = parseRunConfig({ split: 'equal', ...m.config });
    const shape = modelShapeFor(m.dataset);
    const network = await this.networkFrom(m, config.model, shape);
    if (this.phase.name !== 'connecting') {
      network?.dispose(); // the link closed while the network was being rebuilt
      return;
    }
    const replica = replicaForRun(config, undefined, shape, network);
    const run = { runId: m.runId, config, replica, appliedStep: -1 };
    if (m.dataFollows === false) {
      const data = this.ownData(m.dataset);
      this.phase = { name: 'ready', run, splits: { ...trainingSplits(data.train, config), test: data.test }, why: 'no group yet' };
      this.opts.log(`joined run ${m.runId} as rank ${m.rank}; its data is this worker's own copy (${data.source}), so none is uploaded`);
      this.send({ type: 'ready', phase: 'data' });
      return;
    }
    this.phase = { name: 'receiving-data', run, receiver: new DatasetReceiver(m.dataset) };
    this.opts.log(`joined run ${m.runId} as rank ${m.rank}; receiving ${m.dataset.trainCount + m.dataset.testCount} images`);
  }

  /** This worker's own data, when the coordinator says it is the run's: checked against the welcome's description. */
  private ownData(info: Msg<'welcome'>['dataset']): Cifar10 {
    const local = this.opts.localData;
    if (local === undefined || local.identity !== datasetIdentity(info)) {
      throw new GradsyncError('E_PROTOCOL', `the coordinator sent no data, but this worker's own copy (--data-dir) is not the run's data set (${info.source})`);
    }
    return local.data;
  }

  /** The network when the run's model is a file: rebuilt from the welcome's topology, never from user code. */
  private async networkFrom(m: Msg<'welcome'>, model: string, shape: ModelShape): Promise<Replica['model'] | undefined> {
    if (isZooModel(model)) return undefined;
    if (!m.modelTopology) throw new GradsyncError('E_PROTOCOL', `the run's model ${model} is a file, but the welcome carries no topology to build it from`);
    const network = await modelFromTopology(m.modelTopology, `the run's model ${model}`);
    checkUserModel(network, shape, `the run's model ${model}`);
    return network;
  }

  private onData(m: Msg<'data'>): void {
    const { run, receiver } = expectPhase(this.phase, ['receiving-data'], 'data');
    receiver.add(m.part, m.offset, m.data);
    if (!receiver.complete) return;
    const data = receiver.finish();
    this.phase = { name: 'ready', run, splits: { ...trainingSplits(data.train, run.config), test: data.test }, why: 'no group yet' };
    this.send({ type: 'ready', phase: 'data' });
  }

  private onSetState(m: Msg<'set-state'>): void {
    const { run } = expectPhase(this.phase, WITH_RUN, 'set-state');
    run.replica.setState({
      params: floatsFromBytes(m.params, 'params'),
      state: floatsFromBytes(m.state, 'state'),
      moments: { m: floatsFromBytes(m.adamM, 'adam m'), v: floatsFromBytes(m.adamV, 'adam v'), t: m.adamT },
    });
    run.appliedStep = m.appliedStep;
    if (m.reason === 'repair') this.opts.log(`weights replaced by the group's copy (hash ${run.replica.weightsHash()}, step ${m.appliedStep})`);
  }

  private async onGroup(m: Msg<'group'>): Promise<void> {
    await this.leaveGroup('between groups');
    const { run, splits } = expectPhase(this.phase, WITH_DATA, 'group');
    const group = await this.joinGroup(m, run.runId, run.config.wireDtype);
    this.phase = { name: 'in-group', run, splits, group };
    const wire = m.algorithm === 'ring' && run.config.wireDtype !== 'f32' ? `, ${run.config.wireDtype} on the wire` : '';
    this.opts.log(`group ${m.groupId}: rank ${m.rank} of ${m.world}, ${m.world === 1 ? 'no all-reduce needed' : `${m.algorithm} all-reduce${wire}`}`);
    this.send({ type: 'ready', phase: 'group', groupId: m.groupId });
    this.lastReportAt = performance.now();
  }

  /** A fresh reducer for every group: a star client or ring reducer that failed once stays failed. */
  private async joinGroup(m: Msg<'group'>, runId: string, wireDtype: WireDtype): Promise<GroupState> {
    const base = { id: m.groupId, rank: m.rank };
    if (m.world === 1) return { ...base, reducer: soloReducer, star: null };
    if (m.algorithm === 'star') {
      const star = new StarClient({ send: (message) => this.send(message), timeoutMs: this.opts.starTimeoutMs });
      return { ...base, reducer: star, star };
    }
    return { ...base, reducer: await this.opts.ring.join({ rank: m.rank, world: m.world, peers: m.peers, runId, wireDtype }), star: null };
  }

  /** Leaves the group, if in one: its reducer is closed (a step waiting on it fails at once). */
  private async leaveGroup(why: string): Promise<void> {
    const phase = this.phase;
    if (phase.name !== 'in-group') return;
    this.phase = { name: 'ready', run: phase.run, splits: phase.splits, why };
    await this.closeReducer(phase.group.reducer);
  }

  private async closeReducer(reducer: AllReducer): Promise<void> {
    const by = reducer.operationsBy;
    if (by)
      this.opts.log(
        `all-reduce operations in the group: ${Object.entries(by)
          .map(([algorithm, n]) => `${n} by ${algorithm}`)
          .join(', ')}`,
      );
    // Closing only ends links that are being abandoned; a failure there changes nothing for the
    // run, but it is worth a line in the log.
    await reducer
      .close()
      .catch((err: unknown) => this.opts.log(`closing the ${reducer.algorithm} all-reduce failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async onStep(m: Msg<'step'>): Promise<void> {
    const { run, splits } = expectPhase(this.phase, WITH_DATA, 'step');
    if (this.phase.name !== 'in-group') {
      // Note [Orders ahead]: an order queued behind an abort belongs to the broken group.
      this.send({
        type: 'step-aborted',
        step: m.step,
        op: m.op,
        reason: `no all-reduce group (${this.phase.name === 'ready' ? this.phase.why : this.phase.name})`,
      });
      return;
    }
    const { replica, config } = run;
    const waitMs = performance.now() - this.lastReportAt;
    const t0 = performance.now();
    const indices = indicesFromBytes(m.indices);
    const batch = gatherSamples(splits.train, indices);
    const augment = Array.from(indices, (i) => augmentParamsFor(config.augment, config.seed, m.epoch, i));
    let t1: number;
    let sum: Float32Array;
    let out: Awaited<ReturnType<typeof replica.computeStep>>;
    // The phase at each call, not at the start: an abort during the compute left the group.
    let reduceFailed = false;
    const allReduce = (data: Float32Array, op: number) =>
      Promise.resolve()
        .then(() => reducerOf(this.phase).allReduceSum(data, op))
        .catch((err: unknown) => {
          reduceFailed = true;
          throw err;
        });
    // Synchronised BatchNorm reduces inside the step too, each reduction with its own id.
    let sub = 0;
    const withinStep = config.syncBatchNorm ? (data: Float32Array) => allReduce(data, subOperationId(m.op, sub++)) : undefined;
    // The step's traffic, BatchNorm's reductions included (a regroup mid-step fails the step anyway).
    const reducer = reducerOf(this.phase);
    const wireBefore = { ...reducer.wire };
    try {
      if (reducer.algorithm === 'ring' && !config.syncBatchNorm) {
        // Note [Bucket plan]: each bucket is its own operation, started as soon as the backward
        // pass has it; a reducer that cannot queue gets them one after another.
        const into = this.stepBufferFor(replica.bufferLength, reducer);
        const sums: Promise<unknown>[] = [];
        let chain: Promise<unknown> = Promise.resolve();
        const onBucketReady = (k: number) => {
          const { start, end } = replica.buckets[k];
          const reduceBucket = () => allReduce(into.subarray(start, end), subOperationId(m.op, k));
          const started = reducer.queuesOperations ? reduceBucket() : (chain = chain.then(reduceBucket));
          started.catch(() => {}); // settled below, after the compute
          sums.push(started);
        };
        out = await replica.computeStep({ ...batch, augment }, withinStep, { into, onBucketReady });
        t1 = performance.now();
        const failed = (await Promise.allSettled(sums)).find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        sum = into;
      } else {
        out = await replica.computeStep({ ...batch, augment }, withinStep);
        t1 = performance.now();
        sum = await allReduce(out.buffer, m.op);
      }
    } catch (err) {
      if (!reduceFailed) throw err; // the compute itself failed: the worker fails, as before
      // A member left mid-reduction: nothing is applied; the coordinator regroups and redoes the step.
      this.send({ type: 'step-aborted', step: m.step, op: m.op, reason: (err as Error).message.slice(0, 1900) });
      this.lastReportAt = performance.now();
      return;
    }
    const t2 = performance.now();
    // Every rank holds the same sum, so every rank makes the same choice here.
    const applied = allFinite(sum);
    const report = (hash: string | undefined, applyMs: number) =>
      this.send({
        type: 'step-done',
        step: m.step,
        op: m.op,
        loss: out.loss,
        correct: out.correct,
        count: out.count,
        computeMs: t1 - t0 + applyMs,
        gradientMs: t1 - t0,
        allreduceMs: t2 - t1,
        waitMs,
        sentBytes: reducer.wire.sent - wireBefore.sent,
        receivedBytes: reducer.wire.received - wireBefore.received,
        applied,
        hash,
        ...this.opts.sampleUsage?.(),
      });
    // Without a hash to report, the step is told done before the update is applied: the
    // coordinator's round trip to the next orders overlaps the optimizer (messages are handled in
    // order, so nothing reads the weights before the update). computeMs then counts the last
    // step's apply time.
    const early = !m.reportHash;
    if (early) report(undefined, this.lastApplyMs);
    if (applied) {
      replica.applySummed(sum, m.globalCount, m.lr);
      run.appliedStep = m.step;
    } else {
      this.opts.log(`step ${m.step}: the summed gradient holds NaN or Inf; update skipped on every rank`);
    }
    this.lastApplyMs = performance.now() - t2;
    if (!early) report(replica.weightsHash(), this.lastApplyMs);
    // From here the worker idles until the next orders: that is the step's wait.
    this.lastReportAt = performance.now();
  }

  private async onEval(m: Msg<'eval'>): Promise<void> {
    const { run, splits } = expectPhase(this.phase, WITH_DATA, 'eval');
    const split = m.split === 'validation' ? splits.validation : splits.test;
    if (m.end > split.count || m.start > m.end)
      throw new GradsyncError('E_PROTOCOL', `eval range ${m.start}..${m.end} outside the ${m.split} split of ${split.count}`);
    const part = sliceSamples(split, m.start, m.end);
    const sums = await run.replica.evaluate(part.images, part.labels);
    let preview: { predictions: number[]; confidences: number[] } | undefined;
    if (m.preview && m.preview.length > 0) {
      const batch = gatherSamples(split, m.preview);
      const probs = await run.replica.predictProbabilities(batch.images, m.preview.length);
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

  /**
   * The bucketed step's buffer, reused from step to step (its sum is applied before the next
   * step writes it): shared memory for a reducer on another thread, which then reads it in place.
   */
  private stepBufferFor(length: number, reducer: AllReducer): Float32Array {
    const shared = Boolean(reducer.queuesOperations);
    const b = this.stepBuffer;
    if (b && b.length === length && b.buffer instanceof SharedArrayBuffer === shared) return b;
    this.stepBuffer = shared ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT)) : new Float32Array(length);
    return this.stepBuffer;
  }

  private send(message: Parameters<CoordinatorLink['send']>[0]): void {
    this.link?.send(message);
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.phase.name === 'ended') return;
    this.opts.log(`worker failed: ${message}`);
    this.send({ type: 'failure', message: message.slice(0, 3900) });
    void this.end(false, message);
  }

  private async end(ok: boolean, reason: string, coordinatorLost = false): Promise<void> {
    const phase = this.phase;
    if (phase.name === 'ended') return;
    const end = { ok, reason, coordinatorLost };
    this.phase = { name: 'ended', end };
    if (phase.name === 'in-group') await this.closeReducer(phase.group.reducer);
    this.link?.close(1000, ok ? 'done' : 'worker stopping');
    this.endResolve(end);
  }
}
