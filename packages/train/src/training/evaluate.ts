import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { MAX_CONFUSION_CLASSES } from '@gradsync/protocol';
import type { LabelArray } from './batch';
import { IMAGE_SHAPE, type ImageShapeTuple, modelShape } from '../model/model-shape';

const bytesPerImage = ([height, width, channels]: ImageShapeTuple) => height * width * channels;

/** Sums (not means) so that sharded evaluations add up exactly. */
export interface EvalSums {
  lossSum: number;
  correct: number;
  count: number;
  /** Row = true class, column = predicted class, classes × classes, row-major. */
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

export function toFloatImages(images: Uint8Array, count: number, shape: ImageShapeTuple = IMAGE_SHAPE): tf.Tensor4D {
  const pixels = bytesPerImage(shape);
  if (images.length !== count * pixels) {
    throw new GradsyncError('E_SHAPE', `expected ${count} images of ${shape.join('x')} (${count * pixels} bytes), got ${images.length} bytes`);
  }
  const data = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) data[i] = images[i] / 255;
  return tf.tensor4d(data, [count, shape[0], shape[1], shape[2]]);
}

/**
 * Each image (HWC uint8) rebuilt pixel by pixel from the source row and column the two maps give for
 * each output row and column: the one loop behind the mirror and the shifted views.
 */
function remapImages(images: Uint8Array, shape: ImageShapeTuple, sourceRow: (y: number) => number, sourceColumn: (x: number) => number): Uint8Array {
  const [height, width, channels] = shape;
  const pixels = bytesPerImage(shape);
  const rows = Array.from({ length: height }, (_, y) => sourceRow(y) * width * channels);
  const columns = Array.from({ length: width }, (_, x) => sourceColumn(x) * channels);
  const out = new Uint8Array(images.length);
  for (let start = 0; start < images.length; start += pixels) {
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
export function mirrorImages(images: Uint8Array, shape: ImageShapeTuple = IMAGE_SHAPE): Uint8Array {
  const width = shape[1];
  return remapImages(
    images,
    shape,
    (y) => y,
    (x) => width - 1 - x,
  );
}

/**
 * Each image (HWC uint8) moved by `shift` pixels down and right (up and left when negative), the
 * uncovered border filled by mirroring the image about its edge pixels (torch's 'reflect' padding).
 */
export function translateImages(images: Uint8Array, shift: number, shape: ImageShapeTuple = IMAGE_SHAPE): Uint8Array {
  const [height, width] = shape;
  if (!Number.isInteger(shift) || Math.abs(shift) >= width)
    throw new GradsyncError('E_SHAPE', `a translation must be a whole number of pixels under ${width}, got ${shift}`);
  const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
  return remapImages(
    images,
    shape,
    (y) => reflect(y - shift, height),
    (x) => reflect(x - shift, width),
  );
}

/** The model's logits for a batch of uint8 images, averaged over the chosen views of each. */
export function evaluationLogits(model: tfl.LayersModel, images: Uint8Array, count: number, views: TestTimeViews): tf.Tensor2D {
  const shape = modelShape(model).inputShape;
  const logitsOf = (view: Uint8Array) => model.predict(toFloatImages(view, count, shape)) as tf.Tensor2D;
  const withMirror = (view: Uint8Array) => tf.div(tf.add(logitsOf(view), logitsOf(mirrorImages(view, shape))), 2) as tf.Tensor2D;
  return tf.tidy(() => {
    if (views === 'one') return logitsOf(images);
    if (views === 'flip') return withMirror(images);
    const translated = tf.add(withMirror(translateImages(images, 1, shape)), withMirror(translateImages(images, -1, shape)));
    return tf.add(tf.mul(withMirror(images), 0.5), tf.mul(translated, 0.25)) as tf.Tensor2D;
  });
}

/** Loss sum, correct count and confusion matrix over a set, in batches, in inference mode (no dropout, moving BatchNorm statistics). */
export async function evaluateModel(model: tfl.LayersModel, images: Uint8Array, labels: LabelArray, options: EvaluateOptions = {}): Promise<EvalSums> {
  const { batchSize = 250, views = 'one' } = options;
  const { inputShape, numClasses } = modelShape(model);
  const pixels = bytesPerImage(inputShape);
  if (images.length !== labels.length * pixels) {
    throw new GradsyncError(
      'E_SHAPE',
      `expected ${labels.length} images of ${inputShape.join('x')} (${labels.length * pixels} bytes) for ${labels.length} labels, got ${images.length} bytes`,
    );
  }
  // Above MAX_CONFUSION_CLASSES no matrix is kept: classes² counts would outweigh the evaluation.
  const keepConfusion = numClasses <= MAX_CONFUSION_CLASSES;
  const confusion = new Array<number>(keepConfusion ? numClasses * numClasses : 0).fill(0);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < labels.length; start += batchSize) {
    const end = Math.min(labels.length, start + batchSize);
    const n = end - start;
    const lab = labels.subarray(start, end);
    const [lossT, predT] = tf.tidy(() => {
      const logits = evaluationLogits(model, images.subarray(start * pixels, end * pixels), n, views);
      const oneHot = tf.oneHot(tf.tensor1d(Int32Array.from(lab), 'int32'), numClasses);
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
      if (keepConfusion) confusion[lab[i]! * numClasses + pred[i]!] += 1;
      if (pred[i] === lab[i]) correct += 1;
    }
  }
  return { lossSum, correct, count: labels.length, confusion };
}
