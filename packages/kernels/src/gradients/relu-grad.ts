import * as tf from '@tensorflow/tfjs-core';
import { cast, mul, Relu, step } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, RELU_GRAD } from '../kernel-names';

/**
 * ReLU's gradient in one pass where the backend has a kernel for it (onednn), else tfjs's own
 * `dy * step(x)` (two passes and an activation-sized temporary), so other backends are unchanged.
 */
export const reluGradConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as Tensor[];
    if (hasKernel(RELU_GRAD) && x!.dtype === 'float32') {
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: dy as Tensor, x: x! }) as Tensor };
    }
    return { x: () => mul(dy as Tensor, cast(step(x!), 'float32')) };
  },
};
