import type {
  EndRecord,
  EpochRecord,
  EvalSummary,
  MessageRecord,
  MetricRecord,
  PreviewRecord,
  RunRecord,
  StepRecord,
  WorkerStatus,
  WorkerStepStats,
} from '@gradsync/metrics';
import type { ProgressInput } from './eta';
import { recentStepRate } from './eta';
import { type Straggler, stragglerOf } from './straggler';

/** The parts of the page a record can change; the renderer redraws only those. */
export type Section = 'run' | 'steps' | 'epochs' | 'workers' | 'preview' | 'messages' | 'end';

/** Per-step series, one entry per StepRecord, appended in place. */
export interface StepSeries {
  step: number[];
  t: number[];
  epoch: number[];
  loss: number[];
  accuracy: number[];
  lr: number[];
  imagesPerSec: number[];
  /** rank → that worker's img/s at each step, aligned with `step`; null where it took no part. */
  workerImagesPerSec: Map<number, (number | null)[]>;
}

export interface StepSplit {
  computeMs: number;
  allreduceMs: number;
  waitMs: number;
}

export interface WorkerView {
  rank: number;
  host: string | null;
  pid: number | null;
  backend: string | null;
  device: string | null;
  status: WorkerStatus;
  reason?: string;
  /** Time (ms) of the latest record about this rank. */
  lastSeen: number;
  /** Steps this rank took part in. */
  steps: number;
  /** Mean over its recent steps; null before its first step. */
  imagesPerSec: number | null;
  split: StepSplit | null;
  /** Its fraction of the global batch in its latest step (--split speed moves it); null before its first step. */
  share: number | null;
  /** The process's figures from its latest step that carried them (null: never reported). */
  usage: WorkerUsage | null;
  /** Its all-reduce traffic in its latest step that reported it (null: never reported). */
  wire: { sentBytes: number; receivedBytes: number } | null;
}

export interface WorkerUsage {
  /** % of one core. */
  cpuPercent: number;
  rssBytes: number;
  /** Only where the backend reports GPU memory. */
  gpuBytes: number | null;
}

export interface LatestEval {
  source: 'validation' | 'test';
  /** Epoch it was measured after; null for the final test evaluation. */
  epoch: number | null;
  summary: EvalSummary;
}

/** How many of a worker's latest steps its img/s and time split average over. */
export const WORKER_WINDOW = 20;
const MESSAGE_LIMIT = 200;

interface StepSample {
  ips: number;
  computeMs: number;
  allreduceMs: number;
  waitMs: number;
}

interface WorkerState extends WorkerView {
  statusT: number;
  /** The last WORKER_WINDOW samples and their running sums (ips: finite values only). */
  recent: StepSample[];
  sums: StepSample & { ipsCount: number };
}

/**
 * A worker's own throughput in one step: its images over its whole cycle (compute + all-reduce +
 * waiting), so in a synchronous run the workers' rates add up to about the global rate, and a
 * worker that gets a smaller share of the batch, or stalls, shows a lower line.
 */
export function workerImagesPerSec(w: WorkerStepStats, step: Pick<StepRecord, 'samples' | 'imagesPerSec'>): number | null {
  const ms = w.computeMs + w.allreduceMs + w.waitMs;
  if (ms > 0) return (w.count * 1000) / ms;
  return step.samples > 0 ? (w.count / step.samples) * step.imagesPerSec : null;
}

/**
 * Everything the dashboard knows about a run, built from metric records one at a time.
 * Pure data: no DOM, no timers. `apply` is O(workers) per record (amortized), so a history of
 * tens of thousands of records loads at once.
 */
export class RunState {
  run: RunRecord | null = null;
  end: EndRecord | null = null;
  readonly steps: StepSeries = emptySteps();
  epochs: EpochRecord[] = [];
  preview: PreviewRecord | null = null;
  latestEval: LatestEval | null = null;
  messages: MessageRecord[] = [];
  records = 0;
  /** Bumped whenever earlier points of the step series are rewritten (so smoothing restarts). */
  revision = 0;
  /** Time of the newest record (ms). */
  lastT = 0;
  /** Who held the latest step back (null: one rank, or no step yet). */
  straggler: Straggler | null = null;
  private workers = new Map<number, WorkerState>();
  private stepsPerEpochSeen = new Map<number, number>();
  private dirty = new Set<Section>();

  /** Forgets everything (a new history arrived, or a different run started). */
  reset(): void {
    this.run = null;
    this.end = null;
    for (const key of ['step', 't', 'epoch', 'loss', 'accuracy', 'lr', 'imagesPerSec'] as const) this.steps[key].length = 0;
    this.steps.workerImagesPerSec.clear();
    this.epochs = [];
    this.preview = null;
    this.latestEval = null;
    this.messages = [];
    this.records = 0;
    this.revision++;
    this.lastT = 0;
    this.workers.clear();
    this.stepsPerEpochSeen.clear();
    for (const s of ['run', 'steps', 'epochs', 'workers', 'preview', 'messages', 'end'] as const) this.dirty.add(s);
  }

  apply(r: MetricRecord): void {
    this.records++;
    if (typeof r.t === 'number' && r.t > this.lastT) this.lastT = r.t;
    switch (r.kind) {
      case 'run':
        if (this.run && this.run.runName !== r.runName) this.reset();
        this.run = r;
        // The same run again after its end: it was resumed from a checkpoint.
        this.reopen();
        this.dirty.add('run');
        break;
      case 'worker': {
        const w = this.worker(r.rank, r.t);
        w.host = r.host;
        w.pid = r.pid;
        w.backend = r.backend;
        w.device = r.device;
        w.status = r.status;
        w.reason = r.reason;
        w.statusT = r.t;
        w.lastSeen = Math.max(w.lastSeen, r.t);
        this.dirty.add('workers');
        break;
      }
      case 'step':
        this.applyStep(r);
        break;
      case 'epoch':
        this.epochs = this.epochs.filter((e) => e.epoch !== r.epoch);
        this.epochs.push(r);
        if (r.validation) this.latestEval = { source: 'validation', epoch: r.epoch, summary: r.validation };
        else if (r.test) this.latestEval = { source: 'test', epoch: r.epoch, summary: r.test };
        this.dirty.add('epochs');
        break;
      case 'preview':
        this.preview = r;
        this.dirty.add('preview');
        break;
      case 'message':
        this.messages.push(r);
        if (this.messages.length > MESSAGE_LIMIT) this.messages.splice(0, this.messages.length - MESSAGE_LIMIT);
        this.dirty.add('messages');
        break;
      case 'end':
        this.end = r;
        if (r.test) {
          this.latestEval = { source: 'test', epoch: null, summary: r.test };
          this.dirty.add('epochs');
        }
        this.dirty.add('end');
        break;
      default:
        // A record kind newer than this page: ignore it.
        break;
    }
  }

  /** The sections changed since the last call. */
  takeDirty(): Set<Section> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /** One view per rank, in rank order. Once the run has ended, a worker not yet reported gone is shown gone. */
  workerViews(): WorkerView[] {
    const ended = this.end;
    return [...this.workers.values()]
      .sort((a, b) => a.rank - b.rank)
      .map(({ statusT: _s, recent: _r, sums: _m, ...view }) =>
        ended && view.status !== 'gone'
          ? { ...view, status: 'gone' as const, reason: `the run ${ended.status === 'completed' ? 'completed' : ended.status}` }
          : view,
      );
  }

  /** Inputs for computeProgress; null before the run record. Epochs are 0-based, as the trainers number them. */
  progressInput(): ProgressInput | null {
    if (!this.run) return null;
    const epochsConfig = this.run.config.epochs;
    const epochs = typeof epochsConfig === 'number' && epochsConfig > 0 ? epochsConfig : null;
    const lastStepEpoch = this.steps.epoch.length ? this.steps.epoch[this.steps.epoch.length - 1] : 0;
    const lastEpochDone = this.epochs.length ? Math.max(...this.epochs.map((e) => e.epoch)) : -1;
    // Between the last step of an epoch and the first of the next, the finished epoch's record is the newest.
    let epochIndex = lastEpochDone >= lastStepEpoch ? lastEpochDone + 1 : lastStepEpoch;
    let stepsIntoEpoch = lastEpochDone >= lastStepEpoch ? 0 : (this.stepsPerEpochSeen.get(lastStepEpoch) ?? 0);
    if (epochs !== null && epochIndex >= epochs) {
      // Every epoch is done: show the last one full.
      epochIndex = epochs - 1;
      stepsIntoEpoch = this.run.stepsPerEpoch;
    }
    return {
      stepsPerEpoch: this.run.stepsPerEpoch,
      epochs,
      epochIndex,
      stepsIntoEpoch,
      stepsPerSec: this.end ? null : recentStepRate(this.steps.t),
      epochsFinished: this.epochs.length,
    };
  }

  private worker(rank: number, t: number): WorkerState {
    let w = this.workers.get(rank);
    if (!w) {
      w = {
        rank,
        host: null,
        pid: null,
        backend: null,
        device: null,
        status: 'joining',
        lastSeen: t,
        steps: 0,
        imagesPerSec: null,
        split: null,
        share: null,
        usage: null,
        wire: null,
        statusT: -Infinity,
        recent: [],
        sums: { ips: 0, ipsCount: 0, computeMs: 0, allreduceMs: 0, waitMs: 0 },
      };
      this.workers.set(rank, w);
    }
    return w;
  }

  /** A run that ended and goes on (resumed) is running again. */
  private reopen(): void {
    if (!this.end) return;
    this.end = null;
    this.dirty.add('end');
    this.dirty.add('workers');
  }

  private applyStep(r: StepRecord): void {
    if (this.end && r.t > this.end.t) this.reopen();
    const s = this.steps;
    const last = s.step.length ? s.step[s.step.length - 1] : -Infinity;
    if (r.step <= last) this.truncateSteps(r.step);
    const index = s.step.length;
    s.step.push(r.step);
    s.t.push(r.t);
    s.epoch.push(r.epoch);
    s.loss.push(r.loss);
    s.accuracy.push(r.accuracy);
    s.lr.push(r.lr);
    s.imagesPerSec.push(r.imagesPerSec);
    this.stepsPerEpochSeen.set(r.epoch, (this.stepsPerEpochSeen.get(r.epoch) ?? 0) + 1);

    for (const ws of r.workers ?? []) {
      const w = this.worker(ws.rank, r.t);
      w.lastSeen = Math.max(w.lastSeen, r.t);
      if (w.status === 'joining' || (w.status === 'gone' && r.t > w.statusT)) w.status = 'training';
      w.steps++;
      if (ws.cpuPercent !== undefined && ws.rssBytes !== undefined)
        w.usage = { cpuPercent: ws.cpuPercent, rssBytes: ws.rssBytes, gpuBytes: ws.gpuBytes ?? null };
      w.share = ws.share ?? (r.samples > 0 ? ws.count / r.samples : null);
      if (ws.sentBytes !== undefined && ws.receivedBytes !== undefined) w.wire = { sentBytes: ws.sentBytes, receivedBytes: ws.receivedBytes };
      const ips = workerImagesPerSec(ws, r);
      addSample(w, { ips: ips ?? Number.NaN, computeMs: finite(ws.computeMs), allreduceMs: finite(ws.allreduceMs), waitMs: finite(ws.waitMs) });
      let series = s.workerImagesPerSec.get(ws.rank);
      if (!series) {
        series = new Array<number | null>(index).fill(null);
        s.workerImagesPerSec.set(ws.rank, series);
      }
      series.push(ips);
    }
    for (const series of s.workerImagesPerSec.values()) if (series.length === index) series.push(null);
    this.straggler = r.workers ? stragglerOf(r) : null;
    this.dirty.add('steps');
    if (r.workers?.length) this.dirty.add('workers');
  }

  /** A step number at or below the newest: the run went back to a checkpoint; later points are superseded. */
  private truncateSteps(fromStep: number): void {
    const s = this.steps;
    let keep = s.step.length;
    while (keep > 0 && s.step[keep - 1] >= fromStep) keep--;
    for (const key of ['step', 't', 'epoch', 'loss', 'accuracy', 'lr', 'imagesPerSec'] as const) s[key].length = keep;
    for (const series of s.workerImagesPerSec.values()) series.length = keep;
    this.stepsPerEpochSeen.clear();
    for (const e of s.epoch) this.stepsPerEpochSeen.set(e, (this.stepsPerEpochSeen.get(e) ?? 0) + 1);
    this.epochs = this.epochs.filter((e) => e.step <= fromStep);
    this.revision++;
    this.dirty.add('epochs');
  }
}

function emptySteps(): StepSeries {
  return { step: [], t: [], epoch: [], loss: [], accuracy: [], lr: [], imagesPerSec: [], workerImagesPerSec: new Map() };
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/** Slides the worker's window by one step and refreshes its means from running sums. */
function addSample(w: WorkerState, sample: StepSample): void {
  const add = (x: StepSample, sign: 1 | -1) => {
    if (Number.isFinite(x.ips)) {
      w.sums.ips += sign * x.ips;
      w.sums.ipsCount += sign;
    }
    w.sums.computeMs += sign * x.computeMs;
    w.sums.allreduceMs += sign * x.allreduceMs;
    w.sums.waitMs += sign * x.waitMs;
  };
  w.recent.push(sample);
  add(sample, 1);
  if (w.recent.length > WORKER_WINDOW) add(w.recent.shift()!, -1);
  const n = w.recent.length;
  w.imagesPerSec = w.sums.ipsCount > 0 ? w.sums.ips / w.sums.ipsCount : null;
  w.split = { computeMs: w.sums.computeMs / n, allreduceMs: w.sums.allreduceMs / n, waitMs: w.sums.waitMs / n };
}
