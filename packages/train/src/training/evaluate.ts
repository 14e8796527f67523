import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
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

/**
 * Which views of each test image evaluation averages the logits of, airbench's test-time augmentation
 * levels 0–2: `one` the image itself; `flip` it and its mirror image (the training flips, so the model
 * knows both, and the two errors are partly independent); `flip-translate` half that pair, and a quarter
 * each the pair of the image shifted by one pixel down-right and up-left (mirror-padded, as the
 * training's crop pads): six forward passes.
 */
export const TEST_TIME_VIEWS = ['one', 'flip', 'flip-translate'] as const;
export type TestTimeViews = (typeof TEST_TIME_VIEWS)[number];

export interface EvaluateOptions {
  batchSize?: number;
  views?: TestTimeViews;
}

export function toFloatImages(images: Uint8Array, count: number): tf.Tensor4D {
  if (images.length !== count * PIXELS) {
    throw new GradsyncError('E_SHAPE', `expected ${count} images of 32x32x3 (${count * PIXELS} bytes), got ${images.length} bytes`);
  }
  const data = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) data[i] = images[i] / 255;
  return tf.tensor4d(data, [count, IMAGE_SHAPE[0], IMAGE_SHAPE[1], IMAGE_SHAPE[2]]);
}

/**
 * Each image (HWC uint8) rebuilt pixel by pixel from the source row and column the two maps give for
 * each output row and column: the one loop behind the mirror and the shifted views.
 */
function remapImages(images: Uint8Array, sourceRow: (y: number) => number, sourceColumn: (x: number) => number): Uint8Array {
  const [height, width, channels] = IMAGE_SHAPE;
  const rows = Array.from({ length: height }, (_, y) => sourceRow(y) * width * channels);
  const columns = Array.from({ length: width }, (_, x) => sourceColumn(x) * channels);
  const out = new Uint8Array(images.length);
  for (let start = 0; start < images.length; start += PIXELS) {
    for (let y = 0; y < height; y++) {
      const toRow = start + y * width * channels;
      for (let x = 0; x < width; x++) {
        const from = start + rows[y] + columns[x];
        for (let c = 0; c < channels; c++) out[toRow + x * channels + c] = images[from + c];
      }
    }
  }
  return out;
}

/** Each image's columns reversed (HWC uint8): the left-right mirror image, computed before any tensor exists. */
export function mirrorImages(images: Uint8Array): Uint8Array {
  const width = IMAGE_SHAPE[1];
  return remapImages(
    images,
    (y) => y,
    (x) => width - 1 - x,
  );
}

/**
 * Each image (HWC uint8) moved by `shift` pixels down and right (up and left when negative), the
 * uncovered border filled by mirroring the image about its edge pixels (torch's 'reflect' padding).
 */
export function translateImages(images: Uint8Array, shift: number): Uint8Array {
  const [height, width] = IMAGE_SHAPE;
  if (!Number.isInteger(shift) || Math.abs(shift) >= width)
    throw new GradsyncError('E_SHAPE', `a translation must be a whole number of pixels under ${width}, got ${shift}`);
  const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
  return remapImages(
    images,
    (y) => reflect(y - shift, height),
    (x) => reflect(x - shift, width),
  );
}

/** The model's logits for a batch of uint8 images, averaged over the chosen views of each. */
export function evaluationLogits(model: tfl.LayersModel, images: Uint8Array, count: number, views: TestTimeViews): tf.Tensor2D {
  const logitsOf = (view: Uint8Array) => model.predict(toFloatImages(view, count)) as tf.Tensor2D;
  const withMirror = (view: Uint8Array) => tf.div(tf.add(logitsOf(view), logitsOf(mirrorImages(view))), 2) as tf.Tensor2D;
  return tf.tidy(() => {
    if (views === 'one') return logitsOf(images);
    if (views === 'flip') return withMirror(images);
    const translated = tf.add(withMirror(translateImages(images, 1)), withMirror(translateImages(images, -1)));
    return tf.add(tf.mul(withMirror(images), 0.5), tf.mul(translated, 0.25)) as tf.Tensor2D;
  });
}

/** Loss sum, correct count and confusion matrix over a set, in batches, in inference mode (no dropout, moving BatchNorm statistics). */
export async function evaluateModel(model: tfl.LayersModel, images: Uint8Array, labels: Uint8Array, options: EvaluateOptions = {}): Promise<EvalSums> {
  const { batchSize = 250, views = 'one' } = options;
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
      const logits = evaluationLogits(model, images.subarray(start * PIXELS, end * PIXELS), n, views);
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
