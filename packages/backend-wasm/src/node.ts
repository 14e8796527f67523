/** @gradsync/backend-wasm/node: the wasm backend set up in Node (binaries, threads), and kernel comparisons against cpu. */
export { configureWasmBackend, describeWasmDevice } from './node/wasm-setup';
export type { WasmSetup } from './node/wasm-setup';
export { silenceCpuBackendBanner } from './node/cpu-banner';
export { initWasmWithTrainingKernels, maxAbsDiff, onWasmAndCpu, seededValues } from './node/compare-backends';
export type { BackendResults } from './node/compare-backends';
