import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { OneDnnBinding } from './native';

/** The name the backend registers under: `tf.setBackend('onednn')`. */
export const ONEDNN_BACKEND = 'onednn';

/**
 * The cpu backend's storage (typed arrays in a data map), with kernels that hand those arrays to
 * oneDNN. Kernels the addon lacks are the cpu backend's own, running on the same storage.
 */
export class OneDnnBackend extends MathBackendCPU {
  constructor(readonly binding: OneDnnBinding) {
    super();
    // MathBackendCPU prints "install the node backend" on first use; this is the native backend.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A float32 tensor's storage, or null when the tensor is not plain float32 data. */
  float32(t: TensorInfo): Float32Array | null {
    if (t.dtype !== 'float32') return null;
    const values = this.data.get(t.dataId)?.values;
    return values instanceof Float32Array ? values : null;
  }

  /**
   * A new output tensor whose storage `fill` writes. If `fill` throws (the addon refused the
   * input), the output is released and the error goes on to the caller.
   */
  output(shape: number[], dtype: DataType, fill: (values: Float32Array | Uint8Array) => void): TensorInfo {
    const size = util.sizeFromShape(shape);
    // Not zero-filled: every native kernel writes each output element, and zeroing an 8 MB
    // activation costs as much as the ReLU that fills it.
    const bytes = Buffer.allocUnsafe(dtype === 'bool' ? size : size * 4);
    const values = dtype === 'bool' ? new Uint8Array(bytes.buffer, bytes.byteOffset, size) : new Float32Array(bytes.buffer, bytes.byteOffset, size);
    fill(values);
    return this.makeTensorInfo(shape, dtype, values);
  }
}
