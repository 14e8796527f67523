// Test support for the kernel tests: run the same computation on wasm and on cpu.
import * as tf from '@tensorflow/tfjs-core';
import { seededValues } from '@gradsync/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { configureWasmBackend } from './wasm-setup';
import { silenceCpuBackendBanner } from './cpu-banner';
import { registerWasmTrainingKernels } from '../kernels/register-training-kernels';

export async function initWasmWithTrainingKernels(): Promise<void> {
  await configureWasmBackend();
  registerWasmTrainingKernels();
  silenceCpuBackendBanner();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
}

export { seededValues };

export interface BackendResults {
  wasm: { shape: number[]; values: Float32Array };
  cpu: { shape: number[]; values: Float32Array };
}

/** Runs `compute` with wasm active, then cpu, and leaves wasm active again. */
export async function onWasmAndCpu(compute: () => tf.Tensor): Promise<BackendResults> {
  const run = async (name: 'wasm' | 'cpu') => {
    await tf.setBackend(name);
    const out = tf.tidy(compute);
    const values = (await out.data()) as Float32Array;
    const shape = out.shape.slice();
    out.dispose();
    return { shape, values: Float32Array.from(values) };
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return { wasm, cpu };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
