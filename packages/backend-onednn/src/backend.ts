import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { backend_util, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { BufferPool } from './buffer-pool';
import type { OneDnnBinding } from './native';

/** The name the backend registers under: `tf.setBackend('onednn')`. */
export const ONEDNN_BACKEND = 'onednn';

type Values = backend_util.BackendValues;

function bufferOf(values: unknown): ArrayBufferLike | null {
  return ArrayBuffer.isView(values) ? values.buffer : null;
}

/**
 * The cpu backend's storage (typed arrays in a data map), with kernels that hand those arrays to
 * oneDNN. Kernels the addon lacks are the cpu backend's own, running on the same storage. Native
 * outputs come from a buffer pool and go back to it when their last tensor is disposed.
 */
export class OneDnnBackend extends MathBackendCPU {
  readonly pool = new BufferPool();

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
   * A new output tensor whose storage `fill` writes. The storage is not zeroed (it may be a reused
   * buffer): `fill` must write every element, as every native kernel does. If `fill` throws (the
   * addon refused the input), the output is released and the error goes on to the caller.
   */
  output(shape: number[], dtype: DataType, fill: (values: Float32Array | Uint8Array) => void): TensorInfo {
    const size = util.sizeFromShape(shape);
    const buffer = this.pool.take(dtype === 'bool' ? size : size * 4);
    const values = dtype === 'bool' ? new Uint8Array(buffer, 0, size) : new Float32Array(buffer, 0, size);
    const info = this.makeTensorInfo(shape, dtype, values);
    try {
      fill(values);
    } catch (err) {
      this.disposeData(info.dataId);
      throw err;
    }
    return info;
  }

  /** Several float32 outputs filled by one call (a kernel with more than one result); all or none. */
  outputs(shapes: number[][], fill: (values: Float32Array[]) => void): TensorInfo[] {
    const infos = shapes.map((shape) => this.output(shape, 'float32', () => {}));
    try {
      fill(infos.map((info) => this.float32(info)!));
    } catch (err) {
      for (const info of infos) this.disposeData(info.dataId);
      throw err;
    }
    return infos;
  }

  override write(values: Values, shape: number[], dtype: DataType): DataId {
    const buffer = bufferOf(values);
    if (buffer != null) this.pool.retain(buffer);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: Values, shape: number[], dtype: DataType, refCount: number): void {
    const buffer = bufferOf(values);
    if (buffer != null) this.pool.retain(buffer);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values != null && !this.data.has(dataId)) {
      const buffer = bufferOf(values);
      if (buffer != null) this.pool.release(buffer);
    }
    return disposed;
  }

  /** A copy when the storage is a pooled buffer: what a caller reads must not change when the buffer is reused. */
  override readSync(dataId: DataId): Values {
    const values = super.readSync(dataId);
    const buffer = bufferOf(values);
    return buffer != null && this.pool.owns(buffer) ? (values as Float32Array).slice() : values;
  }
}
