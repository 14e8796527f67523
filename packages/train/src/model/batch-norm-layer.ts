import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BATCH_NORM_TRAINING, hasKernel } from '@gradsync/kernels';

type BatchNormArgs = Parameters<typeof tfl.layers.batchNormalization>[0];

// tfjs-layers does not export the class; every instance's constructor is it.
const BatchNormalization = Object.getPrototypeOf(tfl.layers.batchNormalization({})).constructor as {
  new (args?: BatchNormArgs): tfl.layers.Layer;
};

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma?: tfl.LayerVariable;
  beta?: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/**
 * Keras' BatchNormalization, the same layer in the saved model (class name and weights), whose
 * training step runs as one fused kernel with a closed-form gradient on backends that have it
 * (onednn). Elsewhere, and in inference, it is tfjs-layers' own layer unchanged.
 */
export class SeedBatchNormalization extends BatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const self = this as unknown as BatchNormInternals;
    const lastAxis = self.axis === -1 || self.axis === input.rank - 1;
    const fused =
      kwargs['training'] === true && lastAxis && self.gamma != null && self.beta != null && input.dtype === 'float32' && hasKernel(BATCH_NORM_TRAINING);
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAINING, { x: input, gamma: self.gamma!.read(), beta: self.beta!.read() }, { epsilon: self.epsilon }) as tf.Tensor[];
      // Moving statistics as tfjs-layers updates them: v -= (v - batch value) * (1 - momentum).
      for (const [variable, value] of [
        [self.movingMean, mean!],
        [self.movingVariance, variance!],
      ] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - self.momentum)));
      }
      return y!;
    });
  }
}

export function batchNormalization(args: BatchNormArgs = {}): tfl.layers.Layer {
  return new SeedBatchNormalization(args);
}
