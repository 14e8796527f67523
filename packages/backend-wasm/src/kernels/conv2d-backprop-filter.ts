import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropFilterInputs, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { GradsyncError } from '@gradsync/core';
import { callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Conv2DBackpropFilter for wasm (the wasm backend has none), as one wasm (XNNPACK) Conv2D.
 *
 * dW[i,j,c,f] = sum over n,oh,ow of x[n, oh*s + i - padTop, ow*s + j - padLeft, c] * dy[n,oh,ow,f]
 * is a convolution of x seen as [C,H,W,N] (batch C, channels N) with dy seen as an [OH,OW,N,F]
 * filter, dilated by the forward stride, padded by the forward padding: its output is [C,fh,fw,F],
 * transposed back to [fh,fw,C,F].
 *
 * The price of that formulation: dy becomes conv weights, which wasm packs anew on every call
 * (a transposed scratch copy, then XNNPACK's packing), ~15 ns per element whatever the filter's
 * shape; for a 64x28x28x32 dy that is about half the convolution's own time. When the input has
 * few channels (the first layer: 3x3x3 = 27 rows of dW) a plain matrix product is cheaper: stack
 * the fh*fw shifted (strided) crops of x as the rows of a [fh*fw*C, N*OH*OW] matrix and multiply
 * by dy seen as [N*OH*OW, F], weights that XNNPACK's fully-connected operator takes without the
 * transposed copy. Measured for x 64x32x32x3 with a fresh dy per call, as in training: ~25 ms CPU
 * instead of ~40 ms. With 32 input channels the nine crops cost more than they save, so those keep
 * the convolution.
 */
export function conv2DBackpropFilterWasm(args: { inputs: Conv2DBackpropFilterInputs; attrs: Conv2DBackpropFilterAttrs; backend: BackendWasm }): TensorInfo {
  const { inputs, attrs, backend } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== 'NHWC') {
    throw new GradsyncError('WASM_KERNEL_UNSUPPORTED', `Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { strideHeight, strideWidth, filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  if (dy.shape[1] !== outHeight || dy.shape[2] !== outWidth) {
    throw new GradsyncError(
      'WASM_KERNEL_UNSUPPORTED',
      `Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the forward output ${outHeight}x${outWidth}`,
    );
  }
  if (filterHeight * filterWidth * info.inChannels <= MATMUL_MAX_ROWS) {
    return backpropFilterByMatMul(x, dy, info, backend);
  }

  // Bottom/right padding that makes the output exactly fh x fw; when the forward conv ignored
  // trailing rows (e.g. valid, stride 2) it would be negative, so pad 0 and slice instead.
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + filterHeight - inHeight - top);
  const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - left);

  const xT = callWasmKernel('Transpose', { x }, { perm: [3, 1, 2, 0] }, backend); // [C,H,W,N]
  const dyT = callWasmKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend); // [OH,OW,N,F]
  const convAttrs: NamedAttrMap = {
    strides: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [strideHeight, strideWidth],
  };
  const conv = callWasmKernel('Conv2D', { x: xT, filter: dyT }, convAttrs, backend); // [C,>=fh,>=fw,F]
  disposeIntermediates(backend, xT, dyT);
  let cropped = conv;
  if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
    cropped = callWasmKernel('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0], filterHeight, filterWidth, conv.shape[3]] }, backend);
    disposeIntermediates(backend, conv);
  }
  const dW = callWasmKernel('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }, backend); // [fh,fw,C,F]
  disposeIntermediates(backend, cropped);
  return dW;
}

/** Largest fh*fw*C (rows of dW) computed as a matrix product rather than a convolution. */
const MATMUL_MAX_ROWS = 32;

function backpropFilterByMatMul(x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, backend: BackendWasm): TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels: c, outChannels: f, batchSize: n } = info;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  const xT = callWasmKernel('Transpose', { x }, { perm: [3, 0, 1, 2] }, backend); // [C,N,H,W]
  const rows = backend.makeOutput([fh * fw * c, n * oh * ow], 'float32');
  // Views after makeOutput: an allocation may grow (and detach) the wasm heap. (wasm's own Slice
  // would copy the whole input out of the heap on every call, nine times here.)
  const src = backend.typedArrayFromHeap(xT) as Float32Array;
  const dst = backend.typedArrayFromHeap(rows) as Float32Array;
  if (top > 0 || left > 0 || info.padInfo.bottom > 0 || info.padInfo.right > 0) dst.fill(0);
  let out = 0;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // Output columns whose input column lies inside x (the rest stay zero: padding).
      const colLo = Math.max(0, Math.ceil((left - j) / sw));
      const colHi = Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1);
      for (let plane = 0; plane < c * n; plane++) {
        const planeBase = plane * h * w;
        for (let r = 0; r < oh; r++, out += ow) {
          const y = r * sh + i - top;
          if (y < 0 || y >= h || colLo >= colHi) continue;
          const rowBase = planeBase + y * w + j - left;
          if (sw === 1) {
            dst.set(src.subarray(rowBase + colLo, rowBase + colHi), out + colLo);
          } else {
            for (let col = colLo; col < colHi; col++) dst[out + col] = src[rowBase + col * sw];
          }
        }
      }
    }
  }
  disposeIntermediates(backend, xT);
  const dy2 = callWasmKernel('Reshape', { x: dy }, { shape: [n * oh * ow, f] }, backend);
  const product = callWasmKernel('BatchMatMul', { a: rows, b: dy2 }, { transposeA: false, transposeB: false }, backend);
  const dW = callWasmKernel('Reshape', { x: product }, { shape: [fh, fw, c, f] }, backend);
  disposeIntermediates(backend, rows, dy2, product);
  return dW;
}

export const conv2DBackpropFilterKernel = wasmTrainingKernel(Conv2DBackpropFilter, () => conv2DBackpropFilterWasm as unknown as KernelConfig['kernelFunc']);
