export { ONEDNN_BACKEND, OneDnnBackend } from './backend';
export { addonPath, loadOneDnnBinding, ONEDNN_INSTALL_HINT, ONEDNN_REBUILD } from './native';
export type { BindingProbe, OneDnnBinding } from './native';
export { isNativeKernel, lastRun, nativeKernels, registerOneDnnBackend } from './register';
export { BATCH_NORM_TRAINING, DROPOUT, hasKernel, RELU_GRAD } from './kernels/fused-training';
export { CONV2D_BIAS_RELU } from './kernels/conv-bias-relu';
