import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { WasmTrainingKernel } from './training-kernel';
import { conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
import { conv2DBackpropInputKernel } from './conv2d-backprop-input';
import { tileKernel } from './tile';
import { identityKernel } from './identity';
import { meanKernel, sumKernel } from './leading-axes-reduction';
import { maxPoolGradKernel } from './max-pool-grad';
import { batchMatMulKernel } from './batch-mat-mul';
import { fusedBatchNormKernel } from './fused-batch-norm';
import { castKernel } from './cast';
import { transformKernel } from './transform';

/** Every kernel this project adds to the wasm backend for training, in registration order. */
export const wasmTrainingKernels: readonly WasmTrainingKernel[] = [
  conv2DBackpropFilterKernel,
  conv2DBackpropInputKernel,
  tileKernel,
  identityKernel,
  sumKernel,
  meanKernel,
  maxPoolGradKernel,
  batchMatMulKernel,
  fusedBatchNormKernel,
  castKernel,
  transformKernel,
];

interface Registration {
  ours: KernelConfig;
  original: KernelConfig | undefined;
}
const registered = new Map<string, Registration>();

/**
 * Registers the training kernels for the 'wasm' backend, replacing wasm's own kernel of the same
 * name where there is one (each replacement falls back to it for cases it does not handle).
 * Idempotent. Safe before or after the wasm backend is initialised. `only` restricts it to some
 * kernel names (the profiling script uses it to measure each kernel's effect).
 * Returns the names now registered.
 */
export function registerWasmTrainingKernels(only?: readonly string[]): string[] {
  for (const kernel of wasmTrainingKernels) {
    if (only != null && !only.includes(kernel.kernelName)) continue;
    const current = getKernel(kernel.kernelName, 'wasm');
    const existing = registered.get(kernel.kernelName);
    if (existing != null && current === existing.ours) continue;
    const original = current;
    if (original != null) unregisterKernel(kernel.kernelName, 'wasm');
    const ours = kernel.create(original);
    registerKernel(ours);
    registered.set(kernel.kernelName, { ours, original });
  }
  return [...registered.keys()];
}

/** Puts wasm's original kernels back (for before/after measurements and tests). */
export function unregisterWasmTrainingKernels(): void {
  for (const [name, { ours, original }] of registered) {
    if (getKernel(name, 'wasm') === ours) {
      unregisterKernel(name, 'wasm');
      if (original != null) registerKernel(original);
    }
  }
  registered.clear();
}
