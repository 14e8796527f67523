import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '../errors/gradsync-error';
import { IMAGE_SHAPE, NUM_CLASSES } from '../model/cifar-shape';

const PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2];

/** Sums (not means) so that sharded evaluations add up exactly. */
export interface EvalSums {
  lossSum: number;
  correct: number;
  count: number;
  /** Row = true class, column = predicted class, NUM_CLASSES × NUM_CLASSES, row-major. */
  confusion: number[];
}

export interface EvaluateOptions {
  batchSize?: number;
  /**
   * Average the logits of each image and its mirror image (airbench's test-time augmentation,
   * level 1): the training flips, so the model knows both, and the two errors are partly independent.
   */
  testTimeFlip?: boolean;
}

export function toFloatImages(images: Uint8Array, count: number): tf.Tensor4D {
  if (images.length !== count * PIXELS) {
    throw new GradsyncError('E_SHAPE', `expected ${count} images of 32x32x3 (${count * PIXELS} bytes), got ${images.length} bytes`);
  }
  const data = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) data[i] = images[i] / 255;
  return tf.tensor4d(data, [count, IMAGE_SHAPE[0], IMAGE_SHAPE[1], IMAGE_SHAPE[2]]);
}

/** Each image's columns reversed (HWC uint8): the left-right mirror image, computed before any tensor exists. */
export function mirrorImages(images: Uint8Array): Uint8Array {
  const [, width, channels] = IMAGE_SHAPE;
  const out = new Uint8Array(images.length);
  const row = width * channels;
  for (let rowStart = 0; rowStart < images.length; rowStart += row) {
    for (let x = 0; x < width; x++) {
      const from = rowStart + (width - 1 - x) * channels;
      const to = rowStart + x * channels;
      for (let c = 0; c < channels; c++) out[to + c] = images[from + c];
    }
  }
  return out;
}

/** The model's logits for a batch of uint8 images, or the mean of the logits of the batch and its mirror images. */
export function evaluationLogits(model: tfl.LayersModel, images: Uint8Array, count: number, testTimeFlip: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = model.predict(toFloatImages(images, count)) as tf.Tensor2D;
    if (!testTimeFlip) return logits;
    const mirrored = model.predict(toFloatImages(mirrorImages(images), count)) as tf.Tensor2D;
    return tf.div(tf.add(logits, mirrored), 2) as tf.Tensor2D;
  });
}

/** Loss sum, correct count and confusion matrix over a set, in batches, in inference mode (no dropout, moving BatchNorm statistics). */
export async function evaluateModel(model: tfl.LayersModel, images: Uint8Array, labels: Uint8Array, options: EvaluateOptions = {}): Promise<EvalSums> {
  const { batchSize = 250, testTimeFlip = false } = options;
  if (images.length !== labels.length * PIXELS) {
    throw new GradsyncError(
      'E_SHAPE',
      `expected ${labels.length} images of 32x32x3 (${labels.length * PIXELS} bytes) for ${labels.length} labels, got ${images.length} bytes`,
    );
  }
  const confusion = new Array<number>(NUM_CLASSES * NUM_CLASSES).fill(0);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < labels.length; start += batchSize) {
    const end = Math.min(labels.length, start + batchSize);
    const n = end - start;
    const lab = labels.subarray(start, end);
    const [lossT, predT] = tf.tidy(() => {
      const logits = evaluationLogits(model, images.subarray(start * PIXELS, end * PIXELS), n, testTimeFlip);
      const oneHot = tf.oneHot(tf.tensor1d(Int32Array.from(lab), 'int32'), NUM_CLASSES);
      const loss = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.SUM);
      return [loss, tf.argMax(logits, 1)];
    });
    const [lossV, pred] = await Promise.all([lossT.data(), predT.data()]);
    tf.dispose([lossT, predT]);
    // CPU backends compute synchronously: let the event loop answer heartbeats between batches
    // (setTimeout, not setImmediate: a browser tab worker runs this too).
    await new Promise((resolve) => setTimeout(resolve, 0));
    lossSum += lossV[0];
    for (let i = 0; i < n; i++) {
      confusion[lab[i] * NUM_CLASSES + pred[i]] += 1;
      if (pred[i] === lab[i]) correct += 1;
    }
  }
  return { lossSum, correct, count: labels.length, confusion };
}
