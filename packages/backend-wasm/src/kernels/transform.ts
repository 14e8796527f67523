import { Transform } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo, TransformAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Transform (tf.image.transform) for wasm. wasm's own kernel maps coordinates outside the image
 * wrongly in 'reflect' mode (a zoom-out sampled x = -1.5 of a 4-wide row as 3 where TensorFlow
 * gives 0.5), which is exactly what RandomZoom needs. This is TensorFlow's algorithm
 * (image_ops.h: map_coord, then nearest or bilinear reads with the fill value outside), in JS on
 * the wasm heap: ~0.2 M pixels per batch of 64, a few ms.
 */
type FillMode = TransformAttrs['fillMode'];

export function mapCoord(coord: number, len: number, mode: FillMode): number {
  let c = coord;
  if (mode === 'reflect') {
    if (c < 0) {
      if (len <= 1) c = 0;
      else {
        const sz2 = 2 * len;
        if (c < -sz2) c = sz2 * Math.trunc(-c / sz2) + c;
        c = c < -len ? c + sz2 : -c - 1;
      }
    } else if (c > len - 1) {
      if (len <= 1) c = 0;
      else {
        const sz2 = 2 * len;
        c -= sz2 * Math.trunc(c / sz2);
        if (c >= len) c = sz2 - c - 1;
      }
    }
    return Math.min(Math.max(c, 0), len - 1);
  }
  if (mode === 'wrap') {
    if (c < 0) {
      if (len <= 1) c = 0;
      else c += len * (Math.trunc(-c / (len - 1)) + 1);
    } else if (c > len - 1) {
      if (len <= 1) c = 0;
      else c -= len * Math.trunc(c / (len - 1));
    }
    return Math.min(Math.max(c, 0), len - 1);
  }
  if (mode === 'nearest') return Math.min(Math.max(c, 0), len - 1);
  return c; // constant: reads outside give the fill value
}

/** NHWC float image(s) through one projective transform per image (or one for all). */
export function projectiveTransform(
  image: Float32Array,
  shape: readonly [number, number, number, number],
  transforms: Float32Array,
  attrs: Pick<TransformAttrs, 'interpolation' | 'fillMode' | 'fillValue'> & { outHeight: number; outWidth: number },
  out: Float32Array,
): void {
  const [batch, h, w, c] = shape;
  const { outHeight, outWidth, fillValue, fillMode, interpolation } = attrs;
  const shared = transforms.length === 8;
  const read = (base: number, y: number, x: number, ch: number) => (y >= 0 && y < h && x >= 0 && x < w ? image[base + (y * w + x) * c + ch] : fillValue);
  for (let b = 0; b < batch; b++) {
    const t = shared ? 0 : b * 8;
    const base = b * h * w * c;
    const outBase = b * outHeight * outWidth * c;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const o = outBase + (oy * outWidth + ox) * c;
        const k = transforms[t + 6] * ox + transforms[t + 7] * oy + 1;
        if (k === 0) {
          for (let ch = 0; ch < c; ch++) out[o + ch] = fillValue;
          continue;
        }
        const x = mapCoord((transforms[t] * ox + transforms[t + 1] * oy + transforms[t + 2]) / k, w, fillMode);
        const y = mapCoord((transforms[t + 3] * ox + transforms[t + 4] * oy + transforms[t + 5]) / k, h, fillMode);
        if (interpolation === 'nearest') {
          const ry = Math.round(y);
          const rx = Math.round(x);
          for (let ch = 0; ch < c; ch++) out[o + ch] = read(base, ry, rx, ch);
          continue;
        }
        const y0 = Math.floor(y);
        const x0 = Math.floor(x);
        const wx1 = x - x0;
        const wx0 = x0 + 1 - x;
        const wy1 = y - y0;
        const wy0 = y0 + 1 - y;
        for (let ch = 0; ch < c; ch++) {
          const top = wx0 * read(base, y0, x0, ch) + wx1 * read(base, y0, x0 + 1, ch);
          const bottom = wx0 * read(base, y0 + 1, x0, ch) + wx1 * read(base, y0 + 1, x0 + 1, ch);
          out[o + ch] = wy0 * top + wy1 * bottom;
        }
      }
    }
  }
}

function createTransform(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const image = args.inputs.image as TensorInfo;
    const transforms = args.inputs.transforms as TensorInfo;
    const attrs = args.attrs as unknown as TransformAttrs;
    if (image.dtype !== 'float32' || image.shape.length !== 4) {
      if (original == null) throw new Error('wasm has no Transform kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    const [batch, h, w, c] = image.shape as [number, number, number, number];
    const [outHeight, outWidth] = attrs.outputShape ?? [h, w];
    const out = backend.makeOutput([batch, outHeight, outWidth, c], 'float32');
    // Views after makeOutput: an allocation may grow (and detach) the wasm heap.
    projectiveTransform(
      backend.typedArrayFromHeap(image) as Float32Array,
      [batch, h, w, c],
      backend.typedArrayFromHeap(transforms) as Float32Array,
      { interpolation: attrs.interpolation, fillMode: attrs.fillMode, fillValue: attrs.fillValue, outHeight, outWidth },
      backend.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}

export const transformKernel = wasmTrainingKernel(Transform, createTransform);
