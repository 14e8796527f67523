import { Identity } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Identity for wasm without the copy. wasm's Identity copies the whole buffer; a training step of
 * the seed CNN runs it about a hundred times (the tape and tf.customGrad clone tensors), several
 * of them on 64x30x30x32 activations. Like the cpu backend, share the buffer and count a
 * reference instead: no wasm kernel writes into its inputs, and Reshape already shares buffers.
 * Strings (kept outside the heap) go to wasm's original.
 */
function createIdentity(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') {
      if (original == null) throw new Error('wasm has no Identity kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

export const identityKernel = wasmTrainingKernel(Identity, createIdentity);
