import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Runs one of the wasm backend's registered kernels directly (no engine bookkeeping, no tape):
 * the building block of the composed kernels in this folder. The caller owns the returned
 * TensorInfo and disposes it with `backend.disposeData(info.dataId)` unless it returns it.
 */
export function callWasmKernel(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: BackendWasm): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel == null) throw new Error(`wasm kernel ${kernelName} is not registered`);
  return callKernelConfig(kernel, inputs, attrs, backend);
}

/** Runs a specific kernel config (e.g. the original wasm kernel kept before it was replaced). */
export function callKernelConfig(kernel: KernelConfig, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: BackendWasm): TensorInfo {
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel ${kernel.kernelName} returned several outputs`);
  return out;
}

/** Frees intermediate results of a composed kernel. */
export function disposeIntermediates(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}
