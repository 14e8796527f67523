/**
 * What a browser tab worker needs from the backend folder, apart from the Node-only backend
 * selection beside it (native bindings, Dawn, file paths) that a browser bundle cannot load.
 */
export { registerWasmTrainingKernels } from './backend/kernels/register-training-kernels';
export { registerTrainingGradients } from './backend/gradients/register-training-gradients';
