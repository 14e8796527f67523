/**
 * A training step whose BatchNorm layers normalise with the statistics of the global batch, the
 * same on every rank (PyTorch's SyncBatchNorm), over the run's all-reduce.
 *
 * Why segments: tfjs differentiates synchronously, and a global statistic needs an (asynchronous)
 * all-reduce in the middle of the forward pass and again in the backward pass. So the model is cut
 * at its BatchNorm layers. Forward, segment by segment: run the layers up to a BatchNorm, reduce
 * in one all-reduce each rank's per-channel count, sum and sum of squared deviations from its own
 * mean plus count × mean² (Chan's combination: the global variance without a second round trip),
 * normalise. Backward, in reverse:
 * reduce Σdy and Σdy·x̂ per channel, apply BatchNorm's backward formula with those global sums,
 * then pull the result back through the segment with a vector-Jacobian product, which recomputes
 * the segment's forward (about a third more compute; dropout reuses the forward pass's masks).
 * Costs 2 small all-reduces per BatchNorm layer each step. Sequential models only (seed-cnn).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import type { LabelArray } from './batch';
import { modelShape } from '../model/model-shape';
import { trainingLoss } from './loss';

/** The element-wise sum of `data` over every rank of the group, identical everywhere. */
export type ReduceSum = (data: Float32Array) => Promise<Float32Array>;

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/** The model cut at its BatchNorm layers: segments.length = norms.length + 1. */
export interface BatchNormPlan {
  segments: tfl.layers.Layer[][];
  norms: BatchNormInternals[];
  /** The model's logits per image: the one-hot width of the head's loss. */
  numClasses: number;
}

/** How many all-reduces a step makes per BatchNorm layer (forward moments, backward sums). */
export const REDUCES_PER_BATCH_NORM = 2;

/** The plan, or why this model cannot take synchronised BatchNorm. */
export function batchNormPlan(model: tfl.LayersModel): { ok: true; plan: BatchNormPlan } | { ok: false; reason: string } {
  if (!(model instanceof tfl.Sequential)) {
    return { ok: false, reason: `--sync-bn needs a sequential model (seed-cnn); ${model.name} has branches (residual adds)` };
  }
  const segments: tfl.layers.Layer[][] = [[]];
  const norms: BatchNormInternals[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') {
      segments.at(-1)!.push(layer);
      continue;
    }
    const bn = layer as unknown as BatchNormInternals;
    const lastAxis = bn.axis === -1 || bn.axis === (layer.inputSpec?.[0]?.ndim ?? 4) - 1;
    if (!lastAxis || bn.gamma == null || bn.beta == null) {
      return { ok: false, reason: `--sync-bn needs BatchNorm over the last axis with scale and shift; ${layer.name} has axis ${bn.axis}` };
    }
    norms.push(bn);
    segments.push([]);
  }
  if (norms.length === 0) return { ok: false, reason: `--sync-bn: ${model.name} has no BatchNorm layer` };
  return { ok: true, plan: { segments, norms, numClasses: modelShape(model).numClasses } };
}

export interface SyncStepOutput {
  /** Gradient of the local summed loss, by tf variable name (sum over ranks, divide by the global count: the mean gradient). */
  grads: Map<string, Float32Array>;
  /** Mean loss and correct count over the local samples. */
  loss: number;
  correct: number;
}

/** Runs one layer as training does; a dropout layer applies the mask drawn for it in this step (drawn on first use). */
function applyLayer(layer: tfl.layers.Layer, x: tf.Tensor, masks: Map<tfl.layers.Layer, tf.Tensor>): tf.Tensor {
  const rate = layer.getClassName() === 'Dropout' ? (layer as unknown as { rate: number }).rate : 0;
  if (layer.getClassName() !== 'Dropout') return layer.apply(x, { training: true }) as tf.Tensor;
  if (rate === 0) return x;
  let mask = masks.get(layer);
  if (mask === undefined) {
    // Inverted dropout as Keras draws it: keep with probability 1 − rate, scale by 1 / (1 − rate).
    mask = tf.keep(tf.div(tf.cast(tf.greaterEqual(tf.randomUniform(x.shape), rate), 'float32'), 1 - rate));
    masks.set(layer, mask);
  }
  return tf.mul(x, mask);
}

const runSegment = (layers: tfl.layers.Layer[], x: tf.Tensor, masks: Map<tfl.layers.Layer, tf.Tensor>) =>
  layers.reduce((h, layer) => applyLayer(layer, h, masks), x);

/** Axes BatchNorm sums over: all but the channel axis. */
const statAxes = (t: tf.Tensor) => Array.from({ length: t.rank - 1 }, (_, i) => i);

/**
 * A rank with no samples this step: it adds zeros to every reduction the others make, in the same
 * order. (Its moving statistics are replaced by the group's average when the step is applied.)
 */
async function takePartWithoutSamples(plan: BatchNormPlan, reduce: ReduceSum): Promise<void> {
  const channels = plan.norms.map((bn) => bn.gamma.shape[0] as number);
  for (const c of channels) await reduce(new Float32Array(2 * c + 1));
  for (const c of [...channels].reverse()) await reduce(new Float32Array(2 * c));
}

/**
 * One synchronised-BatchNorm training step on the local samples (`count` may be 0: the rank still
 * takes part in every reduction). Updates the BatchNorm moving statistics, which come out the same
 * on every rank. Every rank must call it with the same model and `reduce` over the same group.
 */
export async function syncBatchNormStep(
  plan: BatchNormPlan,
  input: tf.Tensor4D,
  labels: LabelArray,
  labelSmoothing: number,
  reduce: ReduceSum,
): Promise<SyncStepOutput> {
  const count = labels.length;
  if (count === 0) {
    await takePartWithoutSamples(plan, reduce);
    return { grads: new Map(), loss: 0, correct: 0 };
  }
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };
  const masks = new Map<tfl.layers.Layer, tf.Tensor>();
  const grads = new Map<string, Float32Array>();
  try {
    // ---- forward ----
    const inputs: tf.Tensor[] = [input]; // inputs[k]: the input of segment k
    const normalized: tf.Tensor[] = []; // x̂ of BatchNorm k
    const scales: tf.Tensor[] = []; // γ / √(var + ε) of BatchNorm k
    const elements: number[] = []; // global element count per channel of BatchNorm k
    for (let k = 0; k < plan.norms.length; k++) {
      const bn = plan.norms[k]!;
      const h = keep(tf.tidy(() => runSegment(plan.segments[k]!, inputs[k]!, masks)));
      const channels = h.shape.at(-1)!;
      const localElements = h.size / channels;
      // Per channel: Σx, and Σ(x − local mean)² + n·(local mean)², which sums over ranks to Σx² with
      // each rank's part computed around its own mean (no large cancellations inside a rank).
      const local = tf.tidy(() => {
        const localMean = tf.mean(h, statAxes(h));
        const deviations = tf.sum(tf.square(tf.sub(h, localMean)), statAxes(h));
        const sums = tf.mul(localMean, localElements);
        return tf.concat([sums, tf.add(deviations, tf.mul(tf.square(localMean), localElements))]).dataSync() as Float32Array;
      });
      const moments = await reduce(Float32Array.from([...local, localElements]));
      const m = moments[2 * channels]!;
      if (!(m > 0)) throw new GradsyncError('E_SYNC_BN', 'synchronised BatchNorm over a global batch of no samples');
      const mean = keep(tf.tidy(() => tf.div(tf.tensor1d(moments.subarray(0, channels)), m)));
      const squaredDeviations = Float64Array.from(moments.subarray(channels, 2 * channels), (sumSquares, c) => {
        const mu = moments[c]! / m;
        return Math.max(0, sumSquares - m * mu * mu);
      });
      const [xHat, scale, y] = tf.tidy(() => {
        const variance = tf.div(tf.tensor1d(Float32Array.from(squaredDeviations)), m);
        const invStd = tf.rsqrt(tf.add(variance, bn.epsilon));
        const xHat = tf.mul(tf.sub(h, mean), invStd);
        const y = tf.add(tf.mul(xHat, bn.gamma.read()), bn.beta.read());
        // Moving statistics as tfjs-layers updates them (the batch variance, biased, as Keras' fused kernel takes it).
        for (const [variable, value] of [
          [bn.movingMean, mean],
          [bn.movingVariance, variance],
        ] as const) {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - bn.momentum)));
        }
        return [xHat, tf.mul(invStd, bn.gamma.read()), y];
      });
      normalized.push(keep(xHat));
      scales.push(keep(scale));
      elements.push(m);
      inputs.push(keep(y));
    }

    // ---- the head: loss of the local samples, summed (the global mean is taken after the all-reduce) ----
    const last = plan.segments.length - 1;
    const oneHot = keep(tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), plan.numClasses) as tf.Tensor2D));
    const headVars = plan.segments[last]!.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
    let correct = 0;
    let loss = 0;
    let dy = keep(
      tf.tidy(() => {
        const { value, grads: g } = tf.engine().gradients(
          () => {
            const logits = runSegment(plan.segments[last]!, inputs[last]!, masks) as tf.Tensor2D;
            correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1)), 'int32')).dataSync()[0]!;
            return tf.mul(trainingLoss(oneHot, logits, labelSmoothing), count);
          },
          [inputs[last]!, ...headVars],
          undefined,
          true,
        );
        loss = value.dataSync()[0]! / count;
        headVars.forEach((v, i) => grads.set(v.name, g[i + 1]!.dataSync() as Float32Array));
        return g[0]!;
      }),
    );

    // ---- backward, BatchNorm by BatchNorm ----
    for (let k = plan.norms.length - 1; k >= 0; k--) {
      const bn = plan.norms[k]!;
      const xHat = normalized[k]!;
      const channels = xHat.shape.at(-1)!;
      const local = tf.tidy(() => tf.concat([tf.sum(dy, statAxes(dy)), tf.sum(tf.mul(dy, xHat), statAxes(dy))]).dataSync() as Float32Array);
      grads.set((bn.beta.read() as tf.Variable).name, local.slice(0, channels));
      grads.set((bn.gamma.read() as tf.Variable).name, local.slice(channels));
      const global = await reduce(Float32Array.from(local));
      const m = elements[k]!;
      const dh = keep(
        tf.tidy(() => {
          const meanDy = tf.div(tf.tensor1d(global.subarray(0, channels)), m);
          const meanDyXHat = tf.div(tf.tensor1d(global.subarray(channels)), m);
          return tf.mul(scales[k]!, tf.sub(tf.sub(dy, meanDy), tf.mul(xHat, meanDyXHat)));
        }),
      );
      const vars = plan.segments[k]!.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
      dy = keep(
        tf.tidy(() => {
          const { grads: g } = tf.engine().gradients(() => runSegment(plan.segments[k]!, inputs[k]!, masks), [inputs[k]!, ...vars], dh, true);
          vars.forEach((v, i) => grads.set(v.name, g[i + 1]!.dataSync() as Float32Array));
          return g[0] ?? tf.zerosLike(inputs[k]!);
        }),
      );
    }
    return { grads, loss, correct };
  } finally {
    tf.dispose(kept);
    tf.dispose([...masks.values()]);
  }
}
