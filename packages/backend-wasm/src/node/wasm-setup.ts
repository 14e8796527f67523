import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Points the wasm backend at its own .wasm binaries and picks the single-threaded SIMD build.
 *
 * Paths: in Node the package's default locateFile does not find the binaries next to a bundled or
 * tsx-run entry point, so we pass the package's `dist/` folder as a plain file path (a prefix ending
 * in a separator; Emscripten reads it with fs, no fetch involved).
 *
 * Threads (measured with tfjs-backend-wasm 4.22.0, Node 20, 2 cores): the threaded build does not
 * work in Node and would not help here.
 * - The flag WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false when IS_NODE (tfjs issue #3830).
 * - Forcing it to true makes init fail with ERR_WORKER_PATH: Emscripten starts its pthread workers
 *   from `blob:` URLs, which Node's worker_threads cannot load.
 * - With Blob/URL patched to temporary files (an experiment, not kept) the threaded module does load
 *   and pre-spawns 8 workers, but get_threads_count() still reports 1, no worker ever runs a task, and
 *   a 64x32x32x32 conv is no faster (the shared-memory build adds heap-growth checks).
 * - On a 2-core machine shared with other processes the right way to use both cores is two gradsync
 *   worker processes with one wasm thread each, which the data-parallel design already gives us.
 * So we use `tfjs-backend-wasm-simd.wasm`, one thread. Non-SIMD hosts get the plain build.
 */
export interface WasmSetup {
  /** The folder the .wasm binaries are loaded from. */
  distDir: string;
  simd: boolean;
  threads: number;
}

let configured: WasmSetup | null = null;

/**
 * Idempotent (the first call's folder wins); must run before the first `tf.setBackend('wasm')`.
 * `wasmDir`: where the .wasm binaries are when the package is not installed (a bundle that carries
 * them, e.g. the GPU check folder); by default the installed package's `dist/`.
 */
export async function configureWasmBackend(wasmDir?: string): Promise<WasmSetup> {
  if (configured) return configured;
  // The package's main file lives in dist/, beside the .wasm binaries.
  const distDir = wasmDir ?? path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(distDir + path.sep);
  // Keep the (Node) default explicit, so a future tfjs that flips it does not silently pick the
  // threaded binary, whose workers cannot start in Node (see above).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  configured = { distDir, simd, threads: 1 };
  return configured;
}

/** A device label such as 'CPU (wasm SIMD, 1 thread)'; call after the wasm backend is initialised. */
export function describeWasmDevice(setup: WasmSetup): string {
  let threads = setup.threads;
  try {
    threads = getThreadsCount();
  } catch {
    // Backend not initialised yet: report the configured count.
  }
  return `CPU (wasm${setup.simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
}
