import { Tile } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import type { WasmTrainingKernel } from './training-kernel';

/**
 * Tile for wasm. The BatchNorm gradient tiles a [1,1,1,C] vector to [N,H,W,C]; wasm's Tile is a
 * scalar index loop, while a broadcasting Add onto zeros runs in XNNPACK. Used when every repeated
 * axis has size 1 (a broadcast) and the dtype is float32; anything else goes to wasm's original.
 */
export function isBroadcastTile(shape: readonly number[], reps: readonly number[]): boolean {
  return shape.length === reps.length && reps.every((r, i) => r === 1 || shape[i] === 1);
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
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const zeros = callWasmKernel('Fill', {}, { shape: outShape, value: 0, dtype: 'float32' }, backend);
    const out = callWasmKernel('Add', { a: zeros, b: x }, {}, backend);
    disposeIntermediates(backend, zeros);
    return out;
  };
}

export const tileKernel: WasmTrainingKernel = {
  kernelName: Tile,
  create(original: KernelConfig | undefined): KernelConfig {
    return { kernelName: Tile, backendName: 'wasm', setupFunc: original?.setupFunc, kernelFunc: createTile(original) };
  },
};
