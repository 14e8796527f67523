/**
 * Coordinator ⇄ worker messages: one msgpackr-encoded object per WebSocket binary frame, each
 * checked by its schema on arrival. Floats and indices travel as raw little-endian bytes.
 * The first message each side sends carries the protocol version.
 */
import { z } from 'zod';
import { decode, encode, PROTOCOL_VERSION, ProtocolError } from './codec';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes');
const count = z
  .int()
  .min(0)
  .max(2 ** 31);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const ms = z.number().min(0).refine(Number.isFinite, 'must be finite');
const name = z.string().max(200);
/** Byte counts of memory: beyond 2^31, below 2^53 (a number stays exact). */
const byteCount = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Classes a data set may have: its labels are 8 or 16 bits. */
export const MAX_CLASSES = 65_536;
/** Above this many classes no confusion matrix is kept (it would be classes² counts per evaluation). */
export const MAX_CONFUSION_CLASSES = 1024;

/** Everything the coordinator knows about the data, so a worker can check what it received. */
const datasetInfo = z.object({
  trainCount: count,
  testCount: count,
  classNames: z.array(name).min(2).max(MAX_CLASSES),
  /** Every image's height, width and channels (HWC bytes, back to back). */
  shape: z.strictObject({ height: z.int().min(1).max(8192), width: z.int().min(1).max(8192), channels: z.union([z.literal(1), z.literal(3)]) }),
  /** 1: 8-bit labels (up to 256 classes); 2: 16-bit, little-endian. */
  labelBytes: z.union([z.literal(1), z.literal(2)]),
  /** sha256 of train labels+images, then test labels+images (see datasetChecksum). */
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.string().max(2000),
});

const replicaState = {
  /** Last global step whose update these weights include (-1: none). */
  appliedStep: z.int().min(-1),
  params: bytes,
  state: bytes,
  adamM: bytes,
  adamV: bytes,
  adamT: count,
};

// ---- worker → coordinator ----

export const WorkerHello = z.strictObject({
  type: z.literal('hello'),
  v: z.literal(PROTOCOL_VERSION),
  token: z.string().max(1000).optional(),
  host: name,
  pid: count,
  backend: name,
  device: name,
  /** Where this worker accepts ring links from its left neighbour, or null if it cannot. */
  peerUrl: z.string().max(500).nullable(),
  /** datasetIdentity of the data this worker read itself (--data-dir): when it is the run's, no upload follows. */
  dataChecksum: z.string().max(128).optional(),
});

export const WorkerReady = z.strictObject({
  type: z.literal('ready'),
  /** 'data' once the whole data set arrived and its checksum matched; 'group' once the peer links are up. */
  phase: z.enum(['data', 'group']),
  groupId: count.optional(),
});

/** Answer to prepare-group: where this worker accepts ring links for that group (null: star only). */
export const GroupEndpoint = z.strictObject({ type: z.literal('endpoint'), groupId: count, peerUrl: z.string().max(500).nullable() });

/** The all-reduce of a step failed or was aborted: nothing was applied; the step will be redone. */
export const StepAborted = z.strictObject({ type: z.literal('step-aborted'), step: count, op: count, reason: z.string().max(2000) });

export const StepDone = z.strictObject({
  type: z.literal('step-done'),
  step: count,
  /** The attempt's operation id from the Step message: answers to an abandoned attempt are told apart. */
  op: count,
  /** NaN or Inf when the gradient was (then `applied` is false). */
  loss: z.number().or(z.nan()),
  correct: count,
  count: count,
  /** Gradient of this rank's share plus applying the summed update. */
  computeMs: ms,
  /**
   * The gradient alone (gather, augment, forward, backward): the part of computeMs that grows with
   * the share, which the coordinator's speed split measures (optional: older workers omit it).
   */
  gradientMs: ms.optional(),
  allreduceMs: ms,
  waitMs: ms,
  /** False when the summed gradient held NaN or Inf: every rank skipped the update. */
  applied: z.boolean(),
  /** Present when the step asked for it. */
  hash: z.string().max(64).optional(),
  /**
   * The worker process's resources since its previous report (optional: older workers omit them).
   * CPU time as a percentage of one core (200 = two cores busy), resident memory, and the
   * backend's GPU memory where it reports one.
   */
  cpuPercent: z.number().min(0).max(100_000).refine(Number.isFinite, 'must be finite').optional(),
  rssBytes: byteCount.optional(),
  gpuBytes: byteCount.optional(),
  /** This step's all-reduce traffic from and to this worker (absent from older workers). */
  sentBytes: byteCount.optional(),
  receivedBytes: byteCount.optional(),
});

export const StarPart = z.strictObject({ type: z.literal('star-part'), op: count, data: bytes });

export const EvalDone = z.strictObject({
  type: z.literal('eval-done'),
  evalId: count,
  lossSum: z.number().or(z.nan()),
  correct: count,
  count: count,
  /** classes × classes counts, row = true class; empty above MAX_CONFUSION_CLASSES classes. */
  confusion: z
    .array(count)
    .max(MAX_CONFUSION_CLASSES ** 2)
    .refine(
      (cells) => cells.length === 0 || (cells.length >= 4 && Math.sqrt(cells.length) % 1 === 0),
      'must be classes × classes counts (a square of 2 or more classes)',
    ),
  /** For the dashboard's image grid: predicted class and its probability per preview index. */
  preview: z
    .strictObject({
      predictions: z.array(
        z
          .int()
          .min(0)
          .max(MAX_CLASSES - 1),
      ),
      confidences: z.array(finite),
    })
    .optional(),
});

export const StateReply = z.strictObject({ type: z.literal('state'), reqId: count, ...replicaState });

export const WorkerFailure = z.strictObject({ type: z.literal('failure'), message: z.string().max(4000) });

export const WorkerMessage = z.discriminatedUnion('type', [
  WorkerHello,
  WorkerReady,
  GroupEndpoint,
  StepDone,
  StepAborted,
  StarPart,
  EvalDone,
  StateReply,
  WorkerFailure,
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

// ---- coordinator → worker ----

export const Welcome = z.strictObject({
  type: z.literal('welcome'),
  v: z.literal(PROTOCOL_VERSION),
  runId: z.string().max(200),
  rank: count,
  /** The validated RunConfig. */
  config: z.record(z.string(), z.unknown()),
  dataset: datasetInfo,
  /** The network's tfjs Layers topology when config.model names a file: the worker rebuilds it (no user code runs there). */
  modelTopology: z.optional(z.record(z.string(), z.unknown())),
  /** false: the worker's own data (its hello's dataChecksum) is the run's, and no data chunks follow. */
  dataFollows: z.optional(z.boolean()),
});

/** One piece of the data set; `part` says which array, `offset` where these bytes go. */
export const DataChunk = z.strictObject({
  type: z.literal('data'),
  part: z.enum(['train-images', 'train-labels', 'test-images', 'test-labels']),
  offset: count,
  data: bytes,
});

export const SetState = z.strictObject({ type: z.literal('set-state'), reason: z.enum(['init', 'repair', 'join']), ...replicaState });

/** Membership is changing: drop the current group's links and open an endpoint for group `groupId`. */
export const PrepareGroup = z.strictObject({ type: z.literal('prepare-group'), groupId: count });

/** Out of band: abandon the all-reduce in flight (a member left); its step will be redone. */
export const Abort = z.strictObject({ type: z.literal('abort'), reason: z.string().max(2000) });

export const GroupSetup = z.strictObject({
  type: z.literal('group'),
  algorithm: z.enum(['ring', 'star']),
  rank: count,
  world: z.int().min(1).max(1024),
  /** ring: every rank's peer URL, by rank. */
  peers: z.array(z.string().max(500)),
  groupId: count,
});

export const Step = z.strictObject({
  type: z.literal('step'),
  step: count,
  epoch: count,
  lr: z.number().positive().refine(Number.isFinite, 'must be finite'),
  /** Uint32 little-endian indices into the training split: this rank's share of the global batch. */
  indices: bytes,
  /** Samples in the whole global batch: the divisor of the summed gradient. */
  globalCount: z.int().min(1),
  /** All-reduce operation id (unique per step attempt). */
  op: count,
  reportHash: z.boolean(),
});

export const StarSum = z.strictObject({ type: z.literal('star-sum'), op: count, data: bytes });

export const Evaluate = z.strictObject({
  type: z.literal('eval'),
  evalId: count,
  split: z.enum(['validation', 'test']),
  start: count,
  end: count,
  /** Indices into the split whose predictions come back in EvalDone.preview. */
  preview: z.array(count).max(64).optional(),
});

export const GetState = z.strictObject({ type: z.literal('get-state'), reqId: count });

export const Done = z.strictObject({ type: z.literal('done'), reason: z.string().max(2000), ok: z.boolean() });

export const CoordinatorMessage = z.discriminatedUnion('type', [
  Welcome,
  DataChunk,
  SetState,
  PrepareGroup,
  GroupSetup,
  Abort,
  Step,
  StarSum,
  Evaluate,
  GetState,
  Done,
]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessage>;

export type WorkerHelloMsg = z.infer<typeof WorkerHello>;
export type StepMsg = z.infer<typeof Step>;
export type EvalDoneMsg = z.infer<typeof EvalDone>;
/** What a welcome says of the data set (its counts, classes, shape, label width and checksum). */
export type DatasetInfo = z.infer<typeof Welcome>['dataset'];
export type StepDoneMsg = z.infer<typeof StepDone>;

function parseWith<T>(schema: z.ZodType<T>, frame: Uint8Array, side: string): T {
  const value = decode(frame);
  const result = schema.safeParse(value);
  if (!result.success) {
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    const issue = result.error.issues[0];
    const where = issue.path.length
      ? ` at ${issue.path
          .slice(0, 8)
          .map((p) => String(p).slice(0, 40))
          .join('.')}`
      : '';
    // The type comes from the network: quoted and cut short, never converted by its own toString.
    const named = typeof type === 'string' ? ` ${JSON.stringify(type.slice(0, 40))}` : type === undefined ? '' : ` of type ${typeof type}`;
    throw new ProtocolError(`invalid ${side} message${named}: ${issue.message.slice(0, 200)}${where}`);
  }
  return result.data;
}

/** Decodes and validates a frame a worker sent. Throws ProtocolError. */
export function parseWorkerMessage(frame: Uint8Array): WorkerMessage {
  return parseWith(WorkerMessage, frame, 'worker');
}

/** Decodes and validates a frame the coordinator sent. Throws ProtocolError. */
export function parseCoordinatorMessage(frame: Uint8Array): CoordinatorMessage {
  return parseWith(CoordinatorMessage, frame, 'coordinator');
}

export function encodeMessage(message: WorkerMessage | CoordinatorMessage): Uint8Array {
  return encode(message);
}

/** Uint32 indices as little-endian bytes and back (length checked). */
export function indicesToBytes(indices: Uint32Array): Uint8Array {
  return new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength);
}

export function indicesFromBytes(b: Uint8Array): Uint32Array {
  if (b.byteLength % 4 !== 0) throw new ProtocolError(`index payload has ${b.byteLength} bytes, not a multiple of 4`);
  const copy = new Uint32Array(b.byteLength / 4);
  new Uint8Array(copy.buffer).set(b);
  return copy;
}
