import { Tile } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Tile for wasm. The BatchNorm gradient (and tf.broadcastTo) tile a [1,1,1,C] vector to
 * [N,H,W,C]; wasm's Tile is a scalar index loop (~125 ms per step of the seed CNN). Two faster
 * ways, for float32 broadcasts (every repeated axis has size 1):
 * - when only leading axes repeat, the output is x's buffer repeated: copy it once, then double
 *   the filled prefix with copyWithin (memcpy) until the output is full;
 * - any other broadcast: a broadcasting Add of x onto zeros (XNNPACK).
 * Everything else goes to wasm's original kernel.
 */
export function isBroadcastTile(shape: readonly number[], reps: readonly number[]): boolean {
  return shape.length === reps.length && reps.every((r, i) => r === 1 || shape[i] === 1);
}

/** True when the output is x's whole buffer repeated: every axis after the first repeated one has rep 1. */
export function isLeadingRepeat(shape: readonly number[], reps: readonly number[]): boolean {
  const last = reps.reduce((at, r, i) => (r !== 1 ? i : at), -1);
  return shape.slice(0, last + 1).every((d) => d === 1);
}

function createTile(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo;
    const { reps } = args.attrs as unknown as TileAttrs;
    if (x.dtype !== 'float32' || !isBroadcastTile(x.shape, reps)) {
      if (original == null) throw new Error('wasm has no Tile kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    if (isLeadingRepeat(x.shape, reps)) {
      const out = backend.makeOutput(outShape, 'float32');
      // Views after makeOutput: an allocation may grow (and detach) the wasm heap.
      const src = backend.typedArrayFromHeap(x) as Float32Array;
      const dst = backend.typedArrayFromHeap(out) as Float32Array;
      if (dst.length === 0) return out;
      dst.set(src);
      for (let filled = src.length; filled < dst.length; filled *= 2) {
        dst.copyWithin(filled, 0, Math.min(filled, dst.length - filled));
      }
      return out;
    }
    const zeros = callWasmKernel('Fill', {}, { shape: outShape, value: 0, dtype: 'float32' }, backend);
    const out = callWasmKernel('Add', { a: zeros, b: x }, {}, backend);
    disposeIntermediates(backend, zeros);
    return out;
  };
}

export const tileKernel = wasmTrainingKernel(Tile, createTile);
