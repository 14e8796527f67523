import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CONV2D_BIAS_RELU, hasKernel } from '@gradsync/kernels';

type Conv2DArgs = Parameters<typeof tfl.layers.conv2d>[0];

// tfjs-layers does not export the class; every instance's constructor is it.
const Conv2D = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as {
  new (args: Conv2DArgs): tfl.layers.Layer;
};

interface Conv2DInternals {
  kernel: tfl.LayerVariable;
  bias?: tfl.LayerVariable;
  useBias: boolean;
  strides: number[];
  padding: string;
  dilationRate: number[];
  dataFormat: string;
  activation: { getClassName(): string };
}

/**
 * Keras' Conv2D, the same layer in the saved model, whose training forward with bias and ReLU is
 * one fused kernel where the backend has it (onednn): tfjs-layers runs conv, add and relu as three
 * passes over the activation whenever gradients are recorded. Elsewhere it is tfjs-layers' own.
 */
export class SeedConv2D extends Conv2D {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const self = this as unknown as Conv2DInternals;
    const fused =
      kwargs['training'] === true &&
      input.rank === 4 &&
      input.dtype === 'float32' &&
      self.useBias &&
      self.bias != null &&
      self.activation.getClassName() === 'relu' &&
      self.dataFormat === 'channelsLast' &&
      self.dilationRate.every((d) => d === 1) &&
      (self.padding === 'valid' || self.padding === 'same') &&
      hasKernel(CONV2D_BIAS_RELU);
    if (!fused) return super.call(inputs, kwargs);
    return tf
      .engine()
      .runKernel(
        CONV2D_BIAS_RELU,
        { x: input, filter: self.kernel.read(), bias: self.bias!.read() },
        { strides: self.strides, pad: self.padding },
      ) as tf.Tensor;
  }
}

export function conv2d(args: Conv2DArgs): tfl.layers.Layer {
  return new SeedConv2D(args);
}
