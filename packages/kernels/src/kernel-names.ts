import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernels gradsync adds to TensorFlow.js, by name. A backend registers the ones it implements
 * (today onednn); layers and gradients call `hasKernel` and keep tfjs's own ops elsewhere, so a
 * model depends on these names, never on a backend package.
 */
export const BATCH_NORM_TRAINING = 'GradsyncBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'GradsyncBatchNormTrainingGrad';
export const RELU_GRAD = 'GradsyncReluGrad';
export const DROPOUT = 'GradsyncDropout';
export const CONV2D_BIAS_RELU = 'GradsyncConv2DBiasRelu';
export const RELU_GRAD_BIAS_SUM = 'GradsyncReluGradBiasSum';

export interface DropoutAttrs {
  rate: number;
  /** Any integer; the same seed gives the same mask. */
  seed: number;
}

export interface BatchNormTrainingAttrs {
  epsilon: number;
}

export interface Conv2DBiasReluAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
}

/** Whether the active backend has `kernelName`. */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}
