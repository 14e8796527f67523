import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';
import type { FusedBatchNormAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * FusedBatchNorm (the forward BatchNorm) for wasm. wasm's kernel is a scalar C loop (~11 ms for
 * 64x30x30x32). With per-channel statistics it is an affine map per channel,
 *   y = x * a + b,  a = scale / sqrt(variance + eps),  b = offset - mean * a,
 * so: a and b for the C channels in JavaScript (float64), then XNNPACK's broadcasting Multiply
 * and Add over x. Statistics of any other shape go to wasm's original kernel.
 */
function createFusedBatchNorm(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const { x, mean, variance, offset, scale } = inputs as {
      x: TensorInfo;
      mean: TensorInfo;
      variance: TensorInfo;
      offset?: TensorInfo;
      scale?: TensorInfo;
    };
    const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
    const channels = x.shape[x.shape.length - 1] ?? 0;
    const perChannel = (t: TensorInfo | undefined) => t == null || (t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === channels);
    const supported = x.dtype === 'float32' && x.shape.length >= 2 && util.sizeFromShape(x.shape) > 0 && [mean, variance, offset, scale].every(perChannel);
    if (!supported) {
      if (original == null) throw new Error('wasm has no FusedBatchNorm kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    const paramShape = x.shape.map((_, i) => (i === x.shape.length - 1 ? channels : 1));
    const a = backend.makeOutput(paramShape, 'float32');
    const b = backend.makeOutput(paramShape, 'float32');
    const read = (t: TensorInfo | undefined) => (t == null ? null : (backend.typedArrayFromHeap(t) as Float32Array));
    const [m, v, o, s] = [read(mean), read(variance), read(offset), read(scale)];
    const av = backend.typedArrayFromHeap(a) as Float32Array;
    const bv = backend.typedArrayFromHeap(b) as Float32Array;
    for (let c = 0; c < channels; c++) {
      const k = (s == null ? 1 : s[c]) / Math.sqrt(v![c] + varianceEpsilon);
      av[c] = k;
      bv[c] = (o == null ? 0 : o[c]) - m![c] * k;
    }
    const scaled = callWasmKernel('Multiply', { a: x, b: a }, {}, backend);
    const out = callWasmKernel('Add', { a: scaled, b }, {}, backend);
    disposeIntermediates(backend, a, b, scaled);
    return out;
  };
}

export const fusedBatchNormKernel = wasmTrainingKernel(FusedBatchNorm, createFusedBatchNorm);
