import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';

/**
 * airbench's identity start (torch's dirac_ on the first in-channels filters) for an HWIO kernel:
 * output filter o < inChannels passes input channel o through the centre tap and nothing else, so a
 * conv with as many outputs as inputs starts as the identity and a widening one starts by copying
 * its input beside random filters. A deep plain stack then starts near a shallow one and trains
 * faster early on. The other filters keep their random start.
 */
export function identityPrefixKernel(kernel: Float32Array, shape: readonly number[]): Float32Array {
  const [height, width, inChannels, outChannels] = shape;
  if (shape.length !== 4 || kernel.length !== height * width * inChannels * outChannels || height % 2 === 0 || width % 2 === 0) {
    throw new GradsyncError(
      'E_SHAPE',
      `identity start wants an odd-sized HWIO kernel matching its values, got shape [${shape.join(', ')}] for ${kernel.length} values`,
    );
  }
  const out = Float32Array.from(kernel);
  const identityFilters = Math.min(inChannels, outChannels);
  const centreTap = (Math.floor(height / 2) * width + Math.floor(width / 2)) * inChannels;
  for (let tap = 0; tap < height * width * inChannels; tap++) {
    for (let o = 0; o < identityFilters; o++) out[tap * outChannels + o] = 0;
  }
  for (let o = 0; o < identityFilters; o++) out[(centreTap + o) * outChannels + o] = 1;
  return out;
}

/** Gives every 3×3 conv of a built model the identity start (its kernel only; bias, if any, untouched). */
export function startConvsAsIdentity(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    const [kernel, ...rest] = layer.getWeights();
    if (kernel === undefined || kernel.rank !== 4 || kernel.shape[0] !== 3 || kernel.shape[1] !== 3) continue;
    const replaced = tf.tensor(identityPrefixKernel(kernel.dataSync() as Float32Array, kernel.shape), kernel.shape);
    layer.setWeights([replaced, ...rest]);
    replaced.dispose();
  }
}
