import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { CONV2D_BIAS_RELU, RELU_GRAD_BIAS_SUM } from '@gradsync/kernels';
import type { Conv2DBiasReluAttrs } from '@gradsync/kernels';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

/**
 * Convolution + bias + ReLU for training, one oneDNN primitive forward (tfjs runs conv, add and
 * relu as three passes whenever gradients are recorded), and a backward that finds the ReLU's
 * gradient and the bias gradient in one pass before the two convolution gradients.
 */

function geometry(x: number[], filter: number[], attrs: Conv2DBiasReluAttrs) {
  const info = backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], attrs.strides, 1, attrs.pad);
  const p = info.padInfo;
  return {
    info,
    args: [
      [info.strideHeight, info.strideWidth],
      [1, 1],
      [p.top, p.left],
      [p.bottom, p.right],
    ] as const,
  };
}

/** Inputs x (NHWC), filter (HWIO), bias [C]; output relu(conv(x, filter) + bias). */
export const conv2DBiasReluKernel: NativeKernel = {
  kernelName: CONV2D_BIAS_RELU,
  run({ x, filter, bias }, attrs, backend) {
    const data = float32Inputs(backend, x!, filter!, bias!);
    if (data == null || x!.shape.length !== 4) throw new Error(`onednn: ${CONV2D_BIAS_RELU} takes float32 NHWC tensors`);
    const { info, args } = geometry(x!.shape, filter!.shape, attrs as unknown as Conv2DBiasReluAttrs);
    const [strides, dilations, padTL, padBR] = args;
    return backend.output(info.outShape, 'float32', (out) =>
      backend.binding.conv2d(
        data[0]!,
        data[1]!,
        data[2]!,
        out as Float32Array,
        x!.shape,
        filter!.shape,
        info.outShape,
        [...strides],
        [...dilations],
        [...padTL],
        [...padBR],
        true,
      ),
    );
  },
};

/** Inputs dy, y (the ReLU's output); outputs dy masked by y > 0, and its per-channel sum. */
export const reluGradBiasSumKernel: NativeKernel = {
  kernelName: RELU_GRAD_BIAS_SUM,
  run({ dy, y }, _attrs, backend) {
    const data = float32Inputs(backend, dy!, y!);
    if (data == null) throw new Error(`onednn: ${RELU_GRAD_BIAS_SUM} takes float32 tensors`);
    const c = y!.shape[y!.shape.length - 1]!;
    return backend.outputs([y!.shape, [c]], ([dx, dbias]) => backend.binding.reluGradBiasSum(data[0]!, data[1]!, dx!, dbias!, c));
  },
};

export const conv2DBiasReluGradConfig: GradConfig = {
  kernelName: CONV2D_BIAS_RELU,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as Tensor[];
    const { strides, pad } = attrs as unknown as Conv2DBiasReluAttrs;
    const [dAct, dBias] = tf.engine().runKernel(RELU_GRAD_BIAS_SUM, { dy: dy as Tensor, y: y! }) as Tensor[];
    return {
      x: () => tf.conv2dTranspose(dAct as Tensor4D, filter as Tensor4D, x!.shape as [number, number, number, number], strides, pad),
      filter: () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dAct! }, { strides, pad, dataFormat: 'NHWC', filterShape: filter!.shape }) as Tensor,
      bias: () => dBias!,
    };
  },
};
