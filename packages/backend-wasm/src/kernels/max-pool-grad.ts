import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { KernelConfig, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmTrainingKernel } from './training-kernel';

/**
 * MaxPoolGrad for wasm, as one pass over the wasm heap in JavaScript. wasm's kernel (a C loop that
 * walks windows per channel) takes ~50 ms for a 64x28x28x32 input; walking NHWC rows with the
 * channel innermost and a running max per channel reads each input once, contiguously.
 *
 * Same result as tfjs-backend-cpu: within each pooling window the gradient goes to the first
 * maximum in row-major order (strictly greater wins, so ties keep the earlier position); windows
 * that overlap add up.
 */
export function maxPoolGradWasm(args: { inputs: { dy: TensorInfo; input: TensorInfo }; attrs: MaxPoolGradAttrs; backend: BackendWasm }): TensorInfo {
  const { inputs, attrs, backend } = args;
  const { dy, input } = inputs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;

  const dx = backend.makeOutput(input.shape, 'float32');
  // Views after makeOutput: an allocation may grow (and detach) the wasm heap.
  const xs = backend.typedArrayFromHeap(input) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxs = backend.typedArrayFromHeap(dx) as Float32Array;
  dxs.fill(0);
  const inBounds =
    padTop === 0 &&
    padLeft === 0 &&
    (outHeight - 1) * strideHeight + effectiveFilterHeight <= inHeight &&
    (outWidth - 1) * strideWidth + effectiveFilterWidth <= inWidth;
  if (inBounds && effectiveFilterHeight === 2 && effectiveFilterWidth === 2) {
    maxPoolGrad2x2(xs, dys, dxs, info);
    return dx;
  }
  const maxValue = new Float32Array(channels);
  const maxIndex = new Int32Array(channels);

  let dyIndex = 0;
  for (let n = 0; n < batchSize; n++) {
    const batchBase = n * inHeight;
    for (let oh = 0; oh < outHeight; oh++) {
      const hCorner = oh * strideHeight - padTop;
      for (let ow = 0; ow < outWidth; ow++, dyIndex += channels) {
        const wCorner = ow * strideWidth - padLeft;
        maxValue.fill(Number.NEGATIVE_INFINITY);
        maxIndex.fill(-1);
        for (let i = 0; i < effectiveFilterHeight; i += dilationHeight) {
          const h = hCorner + i;
          if (h < 0 || h >= inHeight) continue;
          for (let j = 0; j < effectiveFilterWidth; j += dilationWidth) {
            const w = wCorner + j;
            if (w < 0 || w >= inWidth) continue;
            const base = ((batchBase + h) * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              const v = xs[base + c];
              if (v > maxValue[c]) {
                maxValue[c] = v;
                maxIndex[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++) {
          const at = maxIndex[c];
          if (at >= 0) dxs[at] += dys[dyIndex + c];
        }
      }
    }
  }
  return dx;
}

/**
 * The common 2x2 window, every window inside the input: the four taps unrolled (about twice as
 * fast as the general loop). Same tie and NaN rules as the general loop.
 */
function maxPoolGrad2x2(xs: Float32Array, dys: Float32Array, dxs: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      let b00 = (n * inHeight + oh * strideHeight) * rowStride;
      for (let ow = 0; ow < outWidth; ow++, dyIndex += channels, b00 += strideWidth * channels) {
        const b01 = b00 + channels;
        const b10 = b00 + rowStride;
        const b11 = b10 + channels;
        for (let c = 0; c < channels; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          let v = xs[b00 + c];
          if (v > best) {
            best = v;
            at = b00 + c;
          }
          v = xs[b01 + c];
          if (v > best) {
            best = v;
            at = b01 + c;
          }
          v = xs[b10 + c];
          if (v > best) {
            best = v;
            at = b10 + c;
          }
          v = xs[b11 + c];
          if (v > best) at = b11 + c;
          if (at >= 0) dxs[at] += dys[dyIndex + c];
        }
      }
    }
  }
}

export const maxPoolGradKernel = wasmTrainingKernel(MaxPoolGrad, () => maxPoolGradWasm as unknown as KernelConfig['kernelFunc']);
