export { ONEDNN_BACKEND, OneDnnBackend } from './backend';
export { addonPath, loadOneDnnBinding, ONEDNN_INSTALL_HINT, ONEDNN_REBUILD } from './native';
export type { BindingProbe, OneDnnBinding } from './native';
export { isNativeKernel, lastRun, nativeKernels, registerOneDnnBackend } from './kernels/register';
