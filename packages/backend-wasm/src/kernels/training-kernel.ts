import type { KernelConfig } from '@tensorflow/tfjs-core';

/**
 * A kernel this project adds to (or replaces in) the wasm backend for training.
 * `create` receives wasm's own kernel of the same name, if it has one, so a replacement can fall
 * back to it for the cases it does not speed up; the returned config must forward the original's
 * `setupFunc`, which the engine runs whenever the wasm backend becomes active.
 */
export interface WasmTrainingKernel {
  readonly kernelName: string;
  create(original: KernelConfig | undefined): KernelConfig;
}

/**
 * A wasm training kernel from the function that builds its `kernelFunc` (given wasm's own kernel,
 * if any): the config around it, with the original's `setupFunc` forwarded, is the same for all.
 */
export function wasmTrainingKernel(kernelName: string, kernelFuncFor: (original: KernelConfig | undefined) => KernelConfig['kernelFunc']): WasmTrainingKernel {
  return {
    kernelName,
    create: (original) => ({ kernelName, backendName: 'wasm', setupFunc: original?.setupFunc, kernelFunc: kernelFuncFor(original) }),
  };
}
