import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface TrainingStepResult {
  loss: number;
  /** One per trainable weight, in the model's order. */
  grads: Float32Array[];
  /** Every weight after the step (BatchNorm's moving statistics move in training mode). */
  weights: Float32Array[];
}

/**
 * Loss, every gradient and the weights after one forward + backward in training mode on the active
 * backend; the tensors it makes are disposed, and so is the model. For comparing backends' steps.
 */
export function oneTrainingStep(model: tfl.LayersModel, x: tf.Tensor, labels: tf.Tensor, labelSmoothing = 0): TrainingStepResult {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(labels, logits, undefined, labelSmoothing) as tf.Scalar;
  }, variables);
  const result = {
    loss: value.dataSync()[0]!,
    grads: variables.map((v) => Float32Array.from(grads[v.name]!.dataSync())),
    weights: model.getWeights().map((w) => Float32Array.from(w.dataSync())),
  };
  tf.dispose([x, labels, value, ...Object.values(grads)]);
  model.dispose();
  return result;
}
