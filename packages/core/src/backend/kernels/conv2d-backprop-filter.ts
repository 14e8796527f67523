import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelConfig,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { GradsyncError } from '@gradsync/core/errors';
import { callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import type { WasmTrainingKernel } from './training-kernel';

/**
 * Conv2DBackpropFilter for wasm (the wasm backend has none), as one wasm (XNNPACK) Conv2D.
 *
 * dW[i,j,c,f] = sum over n,oh,ow of x[n, oh*s + i - padTop, ow*s + j - padLeft, c] * dy[n,oh,ow,f]
 * is a convolution of x seen as [C,H,W,N] (batch C, channels N) with dy seen as an [OH,OW,N,F]
 * filter, dilated by the forward stride, padded by the forward padding: its output is [C,fh,fw,F],
 * transposed back to [fh,fw,C,F].
 */
export function conv2DBackpropFilterWasm(args: {
  inputs: Conv2DBackpropFilterInputs;
  attrs: Conv2DBackpropFilterAttrs;
  backend: BackendWasm;
}): TensorInfo {
  const { inputs, attrs, backend } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== 'NHWC') {
    throw new GradsyncError(
      'WASM_KERNEL_UNSUPPORTED',
      `Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`,
    );
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { strideHeight, strideWidth, filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  if (dy.shape[1] !== outHeight || dy.shape[2] !== outWidth) {
    throw new GradsyncError(
      'WASM_KERNEL_UNSUPPORTED',
      `Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the forward output ${outHeight}x${outWidth}`,
    );
  }
  // Bottom/right padding that makes the output exactly fh x fw; when the forward conv ignored
  // trailing rows (e.g. valid, stride 2) it would be negative, so pad 0 and slice instead.
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + filterHeight - inHeight - top);
  const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - left);

  const xT = callWasmKernel('Transpose', { x }, { perm: [3, 1, 2, 0] }, backend); // [C,H,W,N]
  const dyT = callWasmKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend); // [OH,OW,N,F]
  const convAttrs: NamedAttrMap = {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [strideHeight, strideWidth],
  };
  const conv = callWasmKernel('Conv2D', { x: xT, filter: dyT }, convAttrs, backend); // [C,>=fh,>=fw,F]
  disposeIntermediates(backend, xT, dyT);
  let cropped = conv;
  if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
    cropped = callWasmKernel(
      'Slice',
      { x: conv },
      { begin: [0, 0, 0, 0], size: [conv.shape[0], filterHeight, filterWidth, conv.shape[3]] },
      backend,
    );
    disposeIntermediates(backend, conv);
  }
  const dW = callWasmKernel('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }, backend); // [fh,fw,C,F]
  disposeIntermediates(backend, cropped);
  return dW;
}

export const conv2DBackpropFilterKernel: WasmTrainingKernel = {
  kernelName: Conv2DBackpropFilter,
  create(original: KernelConfig | undefined): KernelConfig {
    return {
      kernelName: Conv2DBackpropFilter,
      backendName: 'wasm',
      setupFunc: original?.setupFunc,
      kernelFunc: conv2DBackpropFilterWasm as unknown as KernelConfig['kernelFunc'],
    };
  },
};
