import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, Conv2DBackpropInputInputs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Conv2DBackpropInput for wasm. wasm's own kernel is a plain C loop (about 45% of a training step
 * of the seed CNN); for stride 1 the input gradient is a forward convolution, which XNNPACK runs
 * fast:
 *
 *   dx = conv2d(dy, W'), W'[i,j,f,c] = W[fh-1-i, fw-1-j, c, f], padded by (f - 1 - forward pad).
 *
 * Other strides, NCHW and paddings wider than the filter fall back to wasm's original kernel.
 */
function createConv2DBackpropInput(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, filter } = args.inputs as Conv2DBackpropInputInputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const fallback = (): TensorInfo => {
      if (original == null) throw new Error('wasm has no Conv2DBackpropInput kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    };
    if (attrs.dataFormat !== 'NHWC') return fallback();
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { filterHeight: fh, filterWidth: fw, padInfo } = info;
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return fallback();
    const padTop = fh - 1 - padInfo.top;
    const padBottom = fh - 1 - padInfo.bottom;
    const padLeft = fw - 1 - padInfo.left;
    const padRight = fw - 1 - padInfo.right;
    if (Math.min(padTop, padBottom, padLeft, padRight) < 0) return fallback();

    const reversed = callWasmKernel('Reverse', { x: filter }, { dims: [0, 1] }, backend);
    const swapped = callWasmKernel('Transpose', { x: reversed }, { perm: [0, 1, 3, 2] }, backend); // [fh,fw,F,C]
    disposeIntermediates(backend, reversed);
    const dx = callWasmKernel(
      'Conv2D',
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
      backend,
    );
    disposeIntermediates(backend, swapped);
    return dx;
  };
}

export const conv2DBackpropInputKernel = wasmTrainingKernel(Conv2DBackpropInput, createConv2DBackpropInput);
