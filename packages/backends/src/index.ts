/** @gradsync/backends: picks the backend this process trains on, and says why each skipped one cannot run here. */
export { selectBackend, backendRequests } from './select-backend';
export type { BackendOptions, BackendRequest, BackendSelection, SkippedBackend } from './select-backend';
export type { BackendId } from './backend-candidates';
export { GPU_REQUIREMENTS } from './backend-candidates';
export { nodeBackendHost } from './backend-host';
export type { BackendHost } from './backend-host';
export { probeNativeBinding } from './native-binding';
export type { NativeBindingProbe, NativePackage } from './native-binding';
export { WEBGPU_REQUIREMENTS } from './backend-candidates';
