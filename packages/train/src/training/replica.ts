import type { ReplicaState } from '@gradsync/protocol';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { augmentBatch, type AugmentParams } from '../augment/index';
import { GradsyncError, createSha256 } from '@gradsync/core';
import { type ModelShape, modelShape } from '../model/model-shape';
import { type AdamConfig, createAdamState, type AdamState } from './adam';
import type { LabelArray } from './batch';
import { type EvalSums, evaluateModel, toFloatImages } from './evaluate';
import { trainingLoss } from './loss';
import { decayedRanges, type OptimizerConfig, optimizerStep, SEED_OPTIMIZER } from './optimizer';
import { type BatchNormPlan, batchNormPlan, type ReduceSum, syncBatchNormStep } from './sync-batch-norm';
import { weightLayout, type WeightLayout, type WeightSlot } from './weight-layout';
import { type Bucket, planBuckets } from './bucket-plan';
import { withGradientTaps } from './gradient-taps';

/** A worker's share of one global batch: HWC uint8 pixels, labels, per-sample augmentation. */
export interface LocalBatch {
  images: Uint8Array;
  labels: LabelArray;
  /** One entry per sample, or null for no augmentation. */
  augment: readonly AugmentParams[] | null;
}

export interface StepOutput {
  /**
   * Everything the all-reduce sums: the gradient of the local mean loss times the local sample
   * count, then the BatchNorm moving statistics after this step's update, also times the count.
   * Summed over ranks and divided by the global count it is the full-batch mean gradient and the
   * sample-weighted average of the replicas' moving statistics.
   */
  buffer: Float32Array;
  /** Mean loss over the local samples. */
  loss: number;
  correct: number;
  count: number;
}

export type { ReplicaState };

/** How a replica trains, beyond the model: the same on every rank (from the run configuration). */
export interface ReplicaOptions {
  optimizer: OptimizerConfig;
  /** Label smoothing ε of the training loss (evaluation loss is always plain cross-entropy). */
  labelSmoothing: number;
  /** BatchNorm over the global batch (sync-batch-norm.ts): computeStep then needs the group's reduce. */
  syncBatchNorm?: boolean;
  /** Adam's epsilon and where it goes (Keras' unless the run asks for PyTorch's conventions). */
  adam?: AdamConfig;
  /** Evaluation averages the logits of each image and its mirror image (evaluate.ts). */
  testTimeFlip?: boolean;
  /** Bytes per all-reduce bucket of the step's buffer (Note [Bucket plan]; default DEFAULT_BUCKET_BYTES). */
  bucketBytes?: number;
}

/** 256 KiB: the seed CNN's 660 KiB gradient in 3 buckets (docs/PERFORMANCE.md, "Overlap"). */
export const DEFAULT_BUCKET_BYTES = 256 * 1024;

/** How computeStep hands its buffer over while the backward pass runs (overlapped all-reduce). */
export interface BucketHooks {
  /** Where the buffer is written (a view another thread shares, say); its length must be bufferLength. */
  into: Float32Array;
  /**
   * Told the index of each bucket of `Replica.buckets` once its part of `into` is final, in plan
   * order, most of them during the backward pass; all of them before computeStep resolves.
   */
  onBucketReady: (bucket: number) => void;
}

/** The tutorial's: Keras Adam, plain cross-entropy, BatchNorm statistics per replica. */
export const SEED_REPLICA_OPTIONS: ReplicaOptions = { optimizer: SEED_OPTIMIZER, labelSmoothing: 0 };

/**
 * One model replica: computes local gradients and applies averaged ones with the run's optimizer.
 * A flat master copy of the weights lives in JS so that every replica applies the same update
 * to the same bytes, whatever the backend; the tfjs variables are written from it.
 */
export class Replica {
  /** The images the model takes and its class count, read from the model (model-shape.ts). */
  readonly shape: ModelShape;
  readonly layout: WeightLayout;
  readonly params: Float32Array;
  readonly state: Float32Array;
  /** The optimizer's state (Adam's moments; SGD's momentum in `m`): see optimizer.ts. */
  /** The optimizer's running moments: Adam's m and v, or SGD's momentum in m (v unused). */
  moments: AdamState;
  /** The step buffer's all-reduce buckets, in reduction order (Note [Bucket plan]). */
  readonly buckets: readonly Bucket[];
  /** Which bucket each trainable slot's gradient is in. */
  private readonly slotBucket: Int32Array;
  private readonly decayed: [number, number][];
  private readonly syncPlan: BatchNormPlan | null = null;

  constructor(
    readonly model: tfl.LayersModel,
    readonly options: ReplicaOptions = SEED_REPLICA_OPTIONS,
  ) {
    this.shape = modelShape(model);
    this.layout = weightLayout(model);
    this.decayed = decayedRanges(this.layout.trainable);
    if (options.syncBatchNorm) {
      const planned = batchNormPlan(model);
      if (!planned.ok) throw new GradsyncError('E_CONFIG', planned.reason);
      this.syncPlan = planned.plan;
    }
    this.params = readSlots(this.layout.trainable, this.layout.trainableSize);
    this.state = readSlots(this.layout.state, this.layout.stateSize);
    this.moments = createAdamState(this.layout.trainableSize);
    const bucketBytes = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    this.buckets = planBuckets(
      this.layout.trainable.map((s) => s.size),
      this.layout.stateSize,
      Math.max(1, Math.floor(bucketBytes / Float32Array.BYTES_PER_ELEMENT)),
    );
    this.slotBucket = new Int32Array(this.layout.trainable.length);
    this.buckets.forEach((b, k) => b.slots.forEach((i) => (this.slotBucket[i] = k)));
  }

  get bufferLength(): number {
    return this.layout.trainableSize + this.layout.stateSize;
  }

  /**
   * Forward and backward over the local samples. With synchronised BatchNorm, `reduce` is the
   * group's all-reduce, called a fixed number of times in the same order on every rank. With
   * `hooks` (not with synchronised BatchNorm) the buffer is `hooks.into`, handed over bucket by
   * bucket as the backward pass produces it; its bits are the same as without.
   */
  async computeStep(batch: LocalBatch, reduce?: ReduceSum, hooks?: BucketHooks): Promise<StepOutput> {
    if (this.syncPlan) {
      if (!reduce) throw new GradsyncError('E_CONFIG', 'synchronised BatchNorm needs the group all-reduce for every step');
      if (hooks) throw new GradsyncError('E_CONFIG', 'synchronised BatchNorm reduces inside the step: its buffer cannot be handed over in buckets');
      return this.computeSyncStep(batch, this.syncPlan, reduce);
    }
    if (hooks && hooks.into.length !== this.bufferLength) {
      throw new GradsyncError('E_SHAPE', `step buffer has ${hooks.into.length} floats, the model needs ${this.bufferLength}`);
    }
    const count = batch.labels.length;
    if (count === 0) {
      const buffer = hooks ? hooks.into.fill(0) : new Float32Array(this.bufferLength);
      this.buckets.forEach((_, k) => hooks?.onBucketReady(k));
      return { buffer, loss: 0, correct: 0, count: 0 };
    }
    if (batch.augment && batch.augment.length !== count) {
      throw new GradsyncError('E_SHAPE', `${batch.augment.length} augmentation entries for ${count} samples`);
    }
    if (hooks) return this.computeBucketedStep(batch, count, hooks);
    let correctT: tf.Tensor | undefined;
    const { packed, lossT } = tf.tidy(() => {
      const { value, grads, correct } = this.lossAndGradients(batch, count);
      correctT = correct;
      const parts = [
        ...this.layout.trainable.map((s) => tf.reshape(grads[s.variable.name], [-1])),
        ...this.layout.state.map((s) => tf.reshape(s.variable, [-1])),
      ];
      return { packed: tf.mul(tf.concat(parts), count), lossT: value };
    });
    try {
      const [buffer, loss, correct] = await Promise.all([packed.data(), lossT.data(), correctT!.data()]);
      return { buffer: buffer as Float32Array, loss: loss[0], correct: correct[0], count };
    } finally {
      tf.dispose([packed, lossT, correctT!]);
    }
  }

  /**
   * computeStep through gradient taps (gradient-taps.ts): each weight's gradient × count is
   * written into `into` as the backward pass produces it, and each bucket is handed over as soon
   * as it is whole. Multiplying in JS is float32 multiplication, as tf.mul is (Note [Float32 sums]
   * in @gradsync/collective's sum.ts says why), so the bytes equal the packed path's.
   */
  private async computeBucketedStep(batch: LocalBatch, count: number, { into, onBucketReady }: BucketHooks): Promise<StepOutput> {
    const trainable = this.layout.trainable;
    const slotBucket = this.slotBucket;
    // Bucket 0 also waits for the state (the forward pass's).
    const missing = this.buckets.map((b, k) => b.slots.length + (k === 0 ? 1 : 0));
    const written = new Uint8Array(trainable.length);
    let nextBucket = 0;
    let stateWritten = false;
    const handOver = () => {
      while (nextBucket < this.buckets.length && missing[nextBucket] === 0) onBucketReady(nextBucket++);
    };
    const writeSlot = (i: number, values: ArrayLike<number>) => {
      const { offset, size } = trainable[i];
      for (let j = 0; j < size; j++) into[offset + j] = values[j] * count;
      written[i] = 1;
      missing[slotBucket[i]]--;
    };
    const writeState = () => {
      if (stateWritten) return;
      stateWritten = true;
      this.writeStateTimesCount(into, count);
      missing[0]--;
    };
    let correctT: tf.Tensor | undefined;
    const lossT = tf.tidy(() => {
      const onGradient = (i: number, dy: tf.Tensor) => {
        writeState(); // the forward pass is over: the moving statistics are this step's
        writeSlot(i, dy.dataSync());
        handOver();
      };
      const { value, grads, correct } = withGradientTaps(this.model.trainableWeights, onGradient, () => this.lossAndGradients(batch, count));
      correctT = correct;
      // Weights no tap could report (read twice, or unused: a zero gradient) come from the gradients map.
      writeState();
      trainable.forEach((s, i) => {
        if (!written[i]) writeSlot(i, grads[s.variable.name]?.dataSync() ?? new Float32Array(s.size));
      });
      handOver();
      return value;
    });
    try {
      const [loss, correct] = await Promise.all([lossT.data(), correctT!.data()]);
      return { buffer: into, loss: loss[0], correct: correct[0], count };
    } finally {
      tf.dispose([lossT, correctT!]);
    }
  }

  /**
   * The forward and backward pass of a training step, inside the caller's tidy: the loss, each
   * weight's gradient, and the correct count (kept past the tidy: the caller disposes it).
   */
  private lossAndGradients(batch: LocalBatch, count: number): { value: tf.Scalar; grads: tf.NamedTensorMap; correct: tf.Tensor } {
    const raw = toFloatImages(batch.images, count, this.shape.inputShape);
    const x = batch.augment ? augmentBatch(raw, batch.augment) : raw;
    const labels = tf.tensor1d(Int32Array.from(batch.labels), 'int32');
    const oneHot = tf.oneHot(labels, this.shape.numClasses) as tf.Tensor2D;
    let correct: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(
      () => {
        const logits = this.model.apply(x, { training: true }) as tf.Tensor2D;
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
        return trainingLoss(oneHot, logits, this.options.labelSmoothing);
      },
      this.layout.trainable.map((s) => s.variable),
    );
    return { value, grads, correct: correct! };
  }

  /** The moving statistics after this step's forward pass × the sample count, into the buffer's tail (see StepOutput.buffer). */
  private writeStateTimesCount(buffer: Float32Array, count: number): void {
    const t = this.layout.trainableSize;
    for (const s of this.layout.state) {
      const values = s.variable.dataSync() as Float32Array;
      for (let i = 0; i < s.size; i++) buffer[t + s.offset + i] = values[i] * count;
    }
  }

  private async computeSyncStep(batch: LocalBatch, plan: BatchNormPlan, reduce: ReduceSum): Promise<StepOutput> {
    const count = batch.labels.length;
    if (batch.augment && batch.augment.length !== count) {
      throw new GradsyncError('E_SHAPE', `${batch.augment.length} augmentation entries for ${count} samples`);
    }
    const x = tf.tidy(() => {
      const raw = toFloatImages(batch.images, count, this.shape.inputShape);
      return batch.augment && count > 0 ? augmentBatch(raw, batch.augment) : raw;
    });
    try {
      const out = await syncBatchNormStep(plan, x, batch.labels, this.options.labelSmoothing, reduce);
      // The gradient is already the local summed loss's; the moving statistics are weighted by the count as in computeStep.
      const buffer = new Float32Array(this.bufferLength);
      for (const s of this.layout.trainable) {
        const g = out.grads.get(s.variable.name);
        if (g) buffer.set(g, s.offset);
      }
      this.writeStateTimesCount(buffer, count);
      return { buffer, loss: out.loss, correct: out.correct, count };
    } finally {
      x.dispose();
    }
  }

  /**
   * Applies the all-reduced sum of every rank's StepOutput.buffer: divides by the global sample
   * count, takes an optimizer step with the mean gradient and adopts the averaged moving statistics.
   */
  applySummed(summed: Float32Array, globalCount: number, learningRate: number): void {
    if (summed.length !== this.bufferLength) {
      throw new GradsyncError('E_SHAPE', `summed buffer has ${summed.length} floats, the model needs ${this.bufferLength}`);
    }
    if (!(globalCount > 0)) throw new GradsyncError('E_SHAPE', `global sample count must be positive, got ${globalCount}`);
    const t = this.layout.trainableSize;
    const grad = new Float32Array(t);
    for (let i = 0; i < t; i++) grad[i] = summed[i] / globalCount;
    optimizerStep(this.params, grad, this.moments, learningRate, this.options.optimizer, this.decayed, this.options.adam);
    for (let i = 0; i < this.layout.stateSize; i++) this.state[i] = summed[t + i] / globalCount;
    this.writeVariables();
  }

  /** Short content hash of every weight, trainable or not; equal hashes = identical replicas. */
  weightsHash(): string {
    return createSha256()
      .update(new Uint8Array(this.params.buffer, this.params.byteOffset, this.params.byteLength))
      .update(new Uint8Array(this.state.buffer, this.state.byteOffset, this.state.byteLength))
      .hex()
      .slice(0, 16);
  }

  getState(): ReplicaState {
    return {
      params: this.params.slice(),
      state: this.state.slice(),
      moments: { m: this.moments.m.slice(), v: this.moments.v.slice(), t: this.moments.t },
    };
  }

  setState(s: ReplicaState): void {
    const want = `${this.layout.trainableSize}/${this.layout.stateSize}`;
    const got = `${s.params.length}/${s.state.length}`;
    if (want !== got || s.moments.m.length !== s.params.length || s.moments.v.length !== s.params.length) {
      throw new GradsyncError('E_SHAPE', `weights do not fit this model: expected trainable/state sizes ${want}, got ${got}`);
    }
    this.params.set(s.params);
    this.state.set(s.state);
    this.moments = { m: s.moments.m.slice(), v: s.moments.v.slice(), t: s.moments.t };
    this.writeVariables();
  }

  /** Loss sum, correct count and confusion matrix over a set, in batches, without dropout. */
  evaluate(images: Uint8Array, labels: LabelArray, batchSize = 250): Promise<EvalSums> {
    return evaluateModel(this.model, images, labels, { batchSize, views: this.options.testTimeFlip ? 'flip' : 'one' });
  }

  /** Class probabilities for a few images (for display and `predict`). */
  async predictProbabilities(images: Uint8Array, count: number): Promise<Float32Array> {
    const probs = tf.tidy(() => tf.softmax(this.model.predict(toFloatImages(images, count, this.shape.inputShape)) as tf.Tensor2D));
    const out = (await probs.data()) as Float32Array;
    probs.dispose();
    return out;
  }

  private writeVariables(): void {
    tf.tidy(() => {
      writeSlots(this.layout.trainable, this.params);
      writeSlots(this.layout.state, this.state);
    });
  }
}

function readSlots(slots: WeightSlot[], size: number): Float32Array {
  const out = new Float32Array(size);
  for (const s of slots) out.set(s.variable.dataSync() as Float32Array, s.offset);
  return out;
}

function writeSlots(slots: WeightSlot[], flat: Float32Array): void {
  for (const s of slots) s.variable.assign(tf.tensor(flat.subarray(s.offset, s.offset + s.size), s.shape));
}

/** Adds evaluation sums from several shards. */
/** Mean loss and accuracy of summed evaluation results (0 for an empty split). */
export function evalSummary(s: EvalSums): { loss: number; accuracy: number; count: number; confusion: number[] } {
  return { loss: s.count ? s.lossSum / s.count : 0, accuracy: s.count ? s.correct / s.count : 0, count: s.count, confusion: s.confusion };
}

export function addEvalSums(parts: readonly EvalSums[]): EvalSums {
  const cells = parts[0]?.confusion.length ?? 0;
  if (parts.some((p) => p.confusion.length !== cells)) {
    throw new GradsyncError('E_SHAPE', `evaluation shards disagree on the confusion matrix's size: ${parts.map((p) => p.confusion.length).join(', ')} cells`);
  }
  const total: EvalSums = { lossSum: 0, correct: 0, count: 0, confusion: new Array<number>(cells).fill(0) };
  for (const p of parts) {
    total.lossSum += p.lossSum;
    total.correct += p.correct;
    total.count += p.count;
    p.confusion.forEach((v, i) => (total.confusion[i] += v));
  }
  return total;
}
