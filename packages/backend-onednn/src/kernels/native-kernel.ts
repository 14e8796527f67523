import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { OneDnnBackend } from '../backend';

/**
 * One kernel the addon runs. `run` returns null for inputs it does not take (another dtype, a
 * layout or option the addon lacks); the cpu backend's kernel of the same name runs then.
 */
export interface NativeKernel {
  kernelName: string;
  run(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: OneDnnBackend): TensorInfo | TensorInfo[] | null;
}

/** The float32 storage of every tensor given, or null if any one is not float32. */
export function float32Inputs(backend: OneDnnBackend, ...tensors: TensorInfo[]): Float32Array[] | null {
  const out: Float32Array[] = [];
  for (const t of tensors) {
    const values = backend.float32(t);
    if (values == null) return null;
    out.push(values);
  }
  return out;
}
