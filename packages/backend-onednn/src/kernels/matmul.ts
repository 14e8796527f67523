import { _FusedMatMul, backend_util, BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { _FusedMatMulAttrs, BatchMatMulAttrs, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { OneDnnBackend } from '../backend';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

const NATIVE_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'sigmoid']);

/** [batch, rows, cols] of a rank >= 2 tensor. */
function as3d(shape: number[]): number[] {
  const rank = shape.length;
  return [util.sizeFromShape(shape.slice(0, rank - 2)), shape[rank - 2]!, shape[rank - 1]!];
}

function matMul(
  { a, b }: NamedTensorInfoMap,
  transposeA: boolean,
  transposeB: boolean,
  backend: OneDnnBackend,
  bias: TensorInfo | undefined,
  activation: string,
): TensorInfo | null {
  const data = float32Inputs(backend, a!, b!);
  if (data == null || a!.shape.length < 2 || b!.shape.length < 2) return null;
  const batchA = a!.shape.slice(0, -2),
    batchB = b!.shape.slice(0, -2);
  const batchShape = backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const aShape = as3d(a!.shape),
    bShape = as3d(b!.shape);
  // The same batch on both sides, or a single matrix on one side: what the addon's loop supports.
  if (!util.arraysEqual(batchA, batchB) && aShape[0] !== 1 && bShape[0] !== 1) return null;
  let biasData: Float32Array | null = null;
  const m = transposeA ? aShape[2]! : aShape[1]!;
  const n = transposeB ? bShape[1]! : bShape[2]!;
  if (bias != null) {
    biasData = backend.float32(bias);
    if (biasData == null || (biasData.length !== n && biasData.length !== 1) || bias.shape.length > 1) return null;
  }
  return backend.output([...batchShape, m, n], 'float32', (out) =>
    backend.binding.matMul(data[0]!, data[1]!, out as Float32Array, aShape, bShape, transposeA, transposeB, biasData, activation),
  );
}

export const batchMatMulKernel: NativeKernel = {
  kernelName: BatchMatMul,
  run(inputs, attrs, backend) {
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    return matMul(inputs, transposeA, transposeB, backend, undefined, 'linear');
  },
};

export const fusedMatMulKernel: NativeKernel = {
  kernelName: _FusedMatMul,
  run(inputs, attrs, backend) {
    const { transposeA, transposeB, activation } = attrs as unknown as _FusedMatMulAttrs;
    if (inputs.preluActivationWeights != null || !NATIVE_ACTIVATIONS.has(activation)) return null;
    return matMul(inputs, transposeA, transposeB, backend, inputs.bias as TensorInfo | undefined, activation);
  },
};
