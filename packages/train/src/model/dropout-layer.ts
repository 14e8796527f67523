import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DROPOUT, hasKernel } from '@gradsync/kernels';

type DropoutArgs = Parameters<typeof tfl.layers.dropout>[0];

// tfjs-layers does not export the class; every instance's constructor is it.
const Dropout = Object.getPrototypeOf(tfl.layers.dropout({ rate: 0.5 })).constructor as {
  new (args: DropoutArgs): tfl.layers.Layer;
};

interface DropoutInternals {
  rate: number;
  noiseShape?: number[];
  seed?: number;
}

/**
 * Keras' Dropout, the same layer in the saved model, whose training mask is drawn and applied in
 * one kernel on backends that have it (onednn): tfjs draws the mask in JavaScript, one number at a
 * time (~8 ms a step for the seed CNN's three layers), then makes four passes to apply it.
 * Elsewhere, with a noise shape or a fixed seed, and in inference, it is tfjs-layers' own layer.
 */
export class SeedDropout extends Dropout {
  static className = 'Dropout';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const { rate, noiseShape, seed } = this as unknown as DropoutInternals;
    const fused = kwargs['training'] === true && rate > 0 && rate < 1 && noiseShape == null && seed == null && input.dtype === 'float32' && hasKernel(DROPOUT);
    if (!fused) return super.call(inputs, kwargs);
    // Unseeded, as tfjs-layers' own dropout is: a fresh mask every call.
    const [y, mask] = tf.engine().runKernel(DROPOUT, { x: input }, { rate, seed: Math.floor(Math.random() * 2 ** 31) }) as tf.Tensor[];
    mask!.dispose();
    return y!;
  }
}

export function dropout(args: DropoutArgs): tfl.layers.Layer {
  return new SeedDropout(args);
}
