/** @gradsync/backend-wasm: the training kernels tfjs's wasm backend lacks (browser-safe); its Node set-up is in `./node`. */
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernels } from './kernels/register-training-kernels';
