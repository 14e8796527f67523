import { broadcastTo, cast, div, Mean, reshape, Sum, util } from '@tensorflow/tfjs-core';
import type { GradConfig, MeanAttrs, SumAttrs, Tensor } from '@tensorflow/tfjs-core';

/**
 * Gradients of Sum and Mean without a JavaScript-side `ones(x.shape)`.
 *
 * tfjs's own (as registered by tfjs-core and by tfjs-layers' bundle) compute
 * `dy * ones(x.shape)` (divided by the reduced size for Mean): the ones are a Float32Array filled
 * in JavaScript and uploaded to the backend on every call. BatchNorm's batch moments take a Mean
 * over 64x30x30x32 activations, so each training step of the seed CNN allocated and copied ~7 MB
 * of ones, ~50 ms of a wasm step. Broadcasting dy (tf.broadcastTo, i.e. the Tile kernel) gives the
 * same values with no allocation outside the backend, on every backend.
 */
function expandedShape(x: Tensor, axis: number | number[]): { shape: number[]; reduceSize: number } {
  const axes = util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  let reduceSize = 1;
  for (const a of axes) {
    reduceSize *= x.shape[a]!;
    shape[a] = 1;
  }
  return { shape, reduceSize };
}

export const sumGradConfig: GradConfig = {
  kernelName: Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as Tensor[];
    const { shape } = expandedShape(x!, (attrs as unknown as SumAttrs).axis);
    const derX = broadcastTo(cast(reshape(dy as Tensor, shape), 'float32'), x!.shape);
    return { x: () => derX };
  },
};

export const meanGradConfig: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as Tensor[];
    const { shape, reduceSize } = expandedShape(x!, (attrs as unknown as MeanAttrs).axis);
    return { x: () => broadcastTo(div(reshape(dy as Tensor, shape), reduceSize), x!.shape) };
  },
};
