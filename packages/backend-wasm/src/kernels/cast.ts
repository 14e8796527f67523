import { Cast } from '@tensorflow/tfjs-core';
import type { CastAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * Cast for wasm without a copy when the dtype does not change. The ReLU gradient is
 * `dy * cast(step(x), 'float32')`, a float32-to-float32 cast that wasm's kernel performs as a
 * full copy. Sharing the buffer (as Identity does) is what the cpu backend does too. Real
 * conversions go to wasm's original kernel, except casts to bool: wasm's copies the numbers into a
 * byte array (-2 becomes 254, 0.5 becomes 0), where tfjs means `x != 0`; those run NotEqual(x, 0).
 */
function createCast(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as CastAttrs;
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      const zero = backend.makeOutput([], x.dtype, undefined, x.dtype === 'int32' ? new Int32Array(1) : new Float32Array(1));
      const out = callWasmKernel('NotEqual', { a: x, b: zero }, {}, backend);
      disposeIntermediates(backend, zero);
      return out;
    }
    if (dtype !== x.dtype || dtype === 'string' || dtype === 'complex64') {
      if (original == null) throw new Error('wasm has no Cast kernel to fall back to');
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype };
  };
}

export const castKernel = wasmTrainingKernel(Cast, createCast);
