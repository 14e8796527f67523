import { BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernelConfig, callWasmKernel, disposeIntermediates } from './wasm-kernel-call';
import { wasmTrainingKernel } from './training-kernel';

/**
 * BatchMatMul for wasm with transposed operands. wasm runs XNNPACK's fully-connected operator only
 * for a single matrix product without transposes; anything else takes a scalar blocked loop. The
 * Dense layers' gradients are exactly the transposed case (dy·Wᵀ and xᵀ·dy): ~12 ms each for a
 * 64x1600x64 product. Transposing the operand first (a cheap copy) puts them on the fast path.
 * Batched products go to wasm's original kernel.
 */
function createBatchMatMul(original: KernelConfig | undefined): KernelConfig['kernelFunc'] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    if (original == null) throw new Error('wasm has no BatchMatMul kernel to build on');
    const single = util.sizeFromShape(a.shape.slice(0, -2)) === 1 && util.sizeFromShape(b.shape.slice(0, -2)) === 1;
    if (!single || (!transposeA && !transposeB)) {
      return callKernelConfig(original, args.inputs, args.attrs ?? {}, backend);
    }
    const swapLastTwo = (x: TensorInfo): TensorInfo => {
      const perm = x.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return callWasmKernel('Transpose', { x }, { perm }, backend);
    };
    const a2 = transposeA ? swapLastTwo(a) : a;
    const b2 = transposeB ? swapLastTwo(b) : b;
    const out = callKernelConfig(original, { a: a2, b: b2 }, { transposeA: false, transposeB: false }, backend);
    if (transposeA) disposeIntermediates(backend, a2);
    if (transposeB) disposeIntermediates(backend, b2);
    return out;
  };
}

export const batchMatMulKernel = wasmTrainingKernel(BatchMatMul, createBatchMatMul);
