import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingGradients } from '@gradsync/kernels';
import { registerWasmTrainingKernels } from '@gradsync/backend-wasm';
import type { TabBackendChoice } from './tab-messages';

export interface TabBackend {
  /** The tfjs backend name, as a Node worker reports it ('wasm' or 'webgpu'). */
  name: 'wasm' | 'webgpu';
  /** What the worker table shows, e.g. 'browser (wasm SIMD, 1 thread)'. */
  device: string;
  /** Why WebGPU was not used, when it was not. */
  note: string | null;
}

interface GpuLike {
  requestAdapter(): Promise<{ isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean; description?: string; vendor?: string } } | null>;
}

/** A real GPU adapter, or why not: a software (fallback) adapter trains slower than wasm. */
async function gpuAdapter(): Promise<{ ok: true; name: string } | { ok: false; why: string }> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return { ok: false, why: 'this browser has no WebGPU' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { ok: false, why: 'WebGPU found no adapter' };
  if (adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) return { ok: false, why: 'the only WebGPU adapter is a software one' };
  return { ok: true, name: adapter.info?.description || adapter.info?.vendor || 'GPU' };
}

/**
 * Brings up the tab's backend. wasm is the same engine and the same training kernels a Node wasm
 * worker registers (single-threaded SIMD: the threaded build needs a cross-origin-isolated page);
 * WebGPU is tfjs-backend-webgpu as shipped, loaded only when it will be used.
 */
export async function setUpTabBackend(choice: TabBackendChoice, wasmBase: string): Promise<TabBackend> {
  let note: string | null = null;
  if (choice !== 'wasm') {
    const gpu = await gpuAdapter();
    if (gpu.ok) {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu')) {
        registerTrainingGradients();
        return { name: 'webgpu', device: `browser GPU: ${gpu.name} (WebGPU)`, note: null };
      }
      note = 'tfjs could not start its WebGPU backend';
    } else {
      note = gpu.why;
    }
    if (choice === 'webgpu') throw new Error(`WebGPU was asked for, but ${note}`);
  }
  setWasmPaths(wasmBase);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error(`the wasm backend did not start (its binaries are loaded from ${wasmBase})`);
  registerWasmTrainingKernels();
  registerTrainingGradients();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  return { name: 'wasm', device: `browser (wasm${simd ? ' SIMD' : ''}, 1 thread)`, note };
}
