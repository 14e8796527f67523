/** @gradsync/backend-webgpu: tfjs's WebGPU backend on Node's Dawn, and why a GPU is unusable when it is. */
export * from './webgpu-setup';
export * from './webgpu-device';
export * from './webgpu-adapters';
export * from './webgpu-diagnosis';
export * from './gpu-device-nodes';
