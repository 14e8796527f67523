import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, DROPOUT, RELU_GRAD } from '@gradsync/kernels';
import type { BatchNormTrainingAttrs, DropoutAttrs } from '@gradsync/kernels';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

/**
 * Kernels that exist only on this backend, for the two places where tfjs's generic gradient costs
 * most: batch norm in training (tfjs differentiates moments + batchNorm op by op: ~25 full passes
 * over the activation; these take 2 forward and 2 backward) and ReLU's gradient (step, then
 * multiply: two passes and an extra activation-sized tensor; this takes one).
 * Callers check `hasKernel` and keep tfjs's own path on every other backend.
 */

function channelsOf(x: TensorInfo): number {
  return x.shape[x.shape.length - 1]!;
}

/** Inputs x (NHWC or [N, C]), gamma, beta; outputs y, batch mean, biased batch variance. */
export const batchNormTrainingKernel: NativeKernel = {
  kernelName: BATCH_NORM_TRAINING,
  run({ x, gamma, beta }, attrs, backend) {
    const data = float32Inputs(backend, x!, gamma!, beta!);
    if (data == null) throw new Error(`onednn: ${BATCH_NORM_TRAINING} takes float32 tensors`);
    const c = channelsOf(x!);
    const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
    return backend.outputs([x!.shape, [c], [c]], ([y, mean, variance]) =>
      backend.binding.batchNormTrain(data[0]!, data[1]!, data[2]!, y!, mean!, variance!, c, epsilon),
    );
  },
};

/** Inputs x, dy, gamma, mean, variance; outputs dx, dgamma, dbeta. */
export const batchNormTrainingGradKernel: NativeKernel = {
  kernelName: BATCH_NORM_TRAINING_GRAD,
  run({ x, dy, gamma, mean, variance }, attrs, backend) {
    const data = float32Inputs(backend, x!, dy!, gamma!, mean!, variance!);
    if (data == null) throw new Error(`onednn: ${BATCH_NORM_TRAINING_GRAD} takes float32 tensors`);
    const c = channelsOf(x!);
    const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
    return backend.outputs([x!.shape, [c], [c]], ([dx, dgamma, dbeta]) =>
      backend.binding.batchNormTrainGrad(data[0]!, data[1]!, data[2]!, data[3]!, data[4]!, dx!, dgamma!, dbeta!, c, epsilon),
    );
  },
};

/** The gradient of the batch-norm kernel: its mean and variance outputs feed only the moving averages. */
export const batchNormTrainingGradConfig: GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dy, saved, attrs) => {
    const [x, gamma, mean, variance] = saved as Tensor[];
    const dys = Array.isArray(dy) ? dy : [dy];
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { x: x!, dy: dys[0]!, gamma: gamma!, mean: mean!, variance: variance! },
        attrs as unknown as tf.NamedAttrMap,
      ) as Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

/** Inputs dy, x; output dy where x > 0, else 0. */
export const reluGradKernel: NativeKernel = {
  kernelName: RELU_GRAD,
  run({ dy, x }, _attrs, backend) {
    const data = float32Inputs(backend, dy!, x!);
    if (data == null) return null;
    return backend.output(x!.shape, 'float32', (out) => backend.binding.reluGrad(data[0]!, data[1]!, out as Float32Array));
  },
};

/** Input x; outputs y = x * mask and the mask (0 or 1/(1-rate)), drawn in the addon. */
export const dropoutKernel: NativeKernel = {
  kernelName: DROPOUT,
  run({ x }, attrs, backend) {
    const data = float32Inputs(backend, x!);
    if (data == null) throw new Error(`onednn: ${DROPOUT} takes a float32 tensor`);
    const { rate, seed } = attrs as unknown as DropoutAttrs;
    return backend.outputs([x!.shape, x!.shape], ([y, mask]) => backend.binding.dropout(data[0]!, y!, mask!, rate, seed));
  },
};

export const dropoutGradConfig: GradConfig = {
  kernelName: DROPOUT,
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    const [mask] = saved as Tensor[];
    const dys = Array.isArray(dy) ? dy : [dy];
    return { x: () => tf.mul(dys[0]!, mask!) };
  },
};
