import * as tf from '@tensorflow/tfjs-core';

/**
 * The training loss: softmax cross-entropy of the logits against one-hot labels, mean over the
 * batch, with label smoothing ε: the target puts 1 − ε on the true class and ε/K on each of the K
 * classes (Keras' and PyTorch's convention). ε = 0 is the tutorial's plain cross-entropy.
 */
export function trainingLoss(oneHot: tf.Tensor2D, logits: tf.Tensor2D, labelSmoothing: number): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, labelSmoothing) as tf.Scalar;
}
