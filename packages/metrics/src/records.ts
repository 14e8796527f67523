/**
 * Metric records: one JSON object per line of runs/<name>/metrics.jsonl, the same objects the
 * coordinator keeps in memory and streams to the dashboard. `t` is Unix time in milliseconds.
 */

export type WorkerStatus = 'joining' | 'training' | 'gone';

export interface RunRecord {
  kind: 'run';
  t: number;
  runName: string;
  /** The validated run configuration (see the coordinator's RunConfig). */
  config: Record<string, unknown>;
  classNames: string[];
  trainCount: number;
  validationCount: number;
  testCount: number;
  stepsPerEpoch: number;
}

export interface WorkerRecord {
  kind: 'worker';
  t: number;
  rank: number;
  host: string;
  pid: number;
  backend: string;
  device: string;
  status: WorkerStatus;
  /** Why it left, for status 'gone'. */
  reason?: string;
}

/** One worker's share of one step. */
export interface WorkerStepStats {
  rank: number;
  loss: number;
  correct: number;
  count: number;
  /** The fraction of the global batch this rank was given (--split; absent from older runs). */
  share?: number;
  /** Forward + backward + packing the gradient. */
  computeMs: number;
  /** The gradient alone, the part of computeMs that grows with the share (absent from older workers). */
  gradientMs?: number;
  /** Inside the all-reduce, from sending the first byte to holding the sum. */
  allreduceMs: number;
  /** Idle: from reporting the previous step to receiving this one. */
  waitMs: number;
  /** The worker process's CPU time since its previous report, as % of one core (absent from older workers). */
  cpuPercent?: number;
  /** Its resident set size when it reported. */
  rssBytes?: number;
  /** Tensor memory on the GPU, where the backend reports it (webgpu, webgl). */
  gpuBytes?: number;
  /** Bytes this rank's all-reduce sent and received in this step (absent from older workers). */
  sentBytes?: number;
  receivedBytes?: number;
}

export interface StepRecord {
  kind: 'step';
  t: number;
  step: number;
  epoch: number;
  /** Sample-weighted mean of the workers' losses. */
  loss: number;
  accuracy: number;
  samples: number;
  lr: number;
  /** Global images per second for this step (samples / wall time since the previous step). */
  imagesPerSec: number;
  workers: WorkerStepStats[];
  /** Each rank's weight hash, by rank, on the steps where replicas were compared. */
  hashes?: string[];
  /**
   * The group had applied this step when a member left, before every rank reported: it counts
   * (its samples were used), but `workers` holds only the answers that had arrived.
   */
  recovered?: true;
}

export interface EvalSummary {
  loss: number;
  accuracy: number;
  count: number;
  /** classes × classes, row = true class, column = predicted, row-major; empty above 1024 classes. */
  confusion: number[];
}

export interface EpochRecord {
  kind: 'epoch';
  t: number;
  epoch: number;
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  validation: EvalSummary | null;
  test: EvalSummary | null;
  /** Learning rate used in this epoch, and the one the schedule chose for the next. */
  lr: number;
  nextLr: number;
  durationSec: number;
  imagesPerSec: number;
}

/** A handful of validation images with the model's current predictions (for the image grid). */
export interface PreviewRecord {
  kind: 'preview';
  t: number;
  epoch: number;
  /** Base64 of count images of `shape` (HWC bytes). */
  pixelsBase64: string;
  /** The images' height, width and channels; absent in runs from before other data sets: 32 × 32 × 3. */
  shape?: { height: number; width: number; channels: 1 | 3 };
  labels: number[];
  predictions: number[];
  /** Probability of the predicted class. */
  confidences: number[];
}

export interface MessageRecord {
  kind: 'message';
  t: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface EndRecord {
  kind: 'end';
  t: number;
  status: 'completed' | 'failed' | 'stopped';
  reason?: string;
  epochs: number;
  steps: number;
  wallSec: number;
  test: EvalSummary | null;
}

export type MetricRecord = RunRecord | WorkerRecord | StepRecord | EpochRecord | PreviewRecord | MessageRecord | EndRecord;
