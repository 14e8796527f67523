import { FusedBatchNorm, Tile, Transform } from '@tensorflow/tfjs-core';
import type { FusedBatchNormAttrs, TensorInfo, TileAttrs, TransformAttrs } from '@tensorflow/tfjs-core';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

/** tf.batchNorm: (x - mean) * scale / sqrt(variance + epsilon) + offset, per channel. */
export const fusedBatchNormKernel: NativeKernel = {
  kernelName: FusedBatchNorm,
  run({ x, mean, variance, offset, scale }, attrs, backend) {
    const data = float32Inputs(backend, x!, mean!, variance!);
    if (data == null) return null;
    const optional = (t: TensorInfo | undefined) => (t == null ? null : backend.float32(t));
    const offsetData = optional(offset),
      scaleData = optional(scale);
    if ((offset != null && offsetData == null) || (scale != null && scaleData == null)) return null;
    // Parameters repeat along x; the addon needs every length to divide the longest.
    const lengths = [data[1]!, data[2]!, offsetData, scaleData].filter((p) => p != null).map((p) => p.length);
    const longest = Math.max(...lengths);
    if (lengths.some((len) => len === 0 || longest % len !== 0) || data[0]!.length % longest !== 0) return null;
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    return backend.output(x!.shape, 'float32', (out) =>
      backend.binding.batchNorm(data[0]!, data[1]!, data[2]!, offsetData, scaleData, out as Float32Array, varianceEpsilon),
    );
  },
};

export const tileKernel: NativeKernel = {
  kernelName: Tile,
  run({ x }, attrs, backend) {
    const data = float32Inputs(backend, x!);
    const { reps } = attrs as unknown as TileAttrs;
    if (data == null || x!.shape.length === 0 || reps.length !== x!.shape.length) return null;
    const outShape = x!.shape.map((d, i) => d * reps[i]!);
    return backend.output(outShape, 'float32', (out) => backend.binding.tile(data[0]!, x!.shape, out as Float32Array, outShape));
  },
};

/** tf.image.transform, TensorFlow's algorithm (the augmentation's flip and zoom). */
export const transformKernel: NativeKernel = {
  kernelName: Transform,
  run({ image, transforms }, attrs, backend) {
    const data = float32Inputs(backend, image!, transforms!);
    if (data == null || image!.shape.length !== 4) return null;
    const a = attrs as unknown as TransformAttrs;
    const [batch, height, width, channels] = image!.shape as [number, number, number, number];
    const [outHeight, outWidth] = a.outputShape ?? [height, width];
    return backend.output([batch, outHeight, outWidth, channels], 'float32', (out) =>
      backend.binding.transform(data[0]!, data[1]!, out as Float32Array, image!.shape, outHeight, outWidth, a.interpolation, a.fillMode, a.fillValue),
    );
  },
};
