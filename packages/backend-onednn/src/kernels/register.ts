import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { ONEDNN_BACKEND, OneDnnBackend } from '../backend';
import type { OneDnnBinding } from '../native';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel, conv2DKernel, fusedConv2DKernel } from './conv';
import { maxPoolGradKernel, maxPoolKernel } from './pool';
import { batchMatMulKernel, fusedMatMulKernel } from './matmul';
import { elementwiseKernels } from './elementwise';
import { reduceKernels } from './reduce';
import { fusedBatchNormKernel, tileKernel, transformKernel } from './shape-and-image';
import type { NativeKernel } from './native-kernel';
import { conv2DBiasReluGradConfig, conv2DBiasReluKernel, reluGradBiasSumKernel } from './conv-bias-relu';
import {
  batchNormTrainingGradConfig,
  batchNormTrainingGradKernel,
  batchNormTrainingKernel,
  dropoutGradConfig,
  dropoutKernel,
  reluGradKernel,
} from './fused-training';

/** Every kernel the addon runs (the rest are the cpu backend's, on the same storage). */
export const nativeKernels: readonly NativeKernel[] = [
  conv2DKernel,
  fusedConv2DKernel,
  conv2DBackpropInputKernel,
  conv2DBackpropFilterKernel,
  maxPoolKernel,
  maxPoolGradKernel,
  batchMatMulKernel,
  fusedMatMulKernel,
  fusedBatchNormKernel,
  tileKernel,
  transformKernel,
  ...elementwiseKernels,
  ...reduceKernels,
  batchNormTrainingKernel,
  batchNormTrainingGradKernel,
  reluGradKernel,
  dropoutKernel,
  conv2DBiasReluKernel,
  reluGradBiasSumKernel,
];

/** Kernel name → whether it ran natively on its last call (for the per-op profile's backend column). */
export const lastRun = new Map<string, 'onednn' | 'cpu'>();

function nativeThenCpu(kernel: NativeKernel, cpu: KernelConfig | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as OneDnnBackend;
    const result = kernel.run(args.inputs, args.attrs ?? {}, backend);
    if (result != null) {
      lastRun.set(kernel.kernelName, 'onednn');
      return result;
    }
    if (cpu == null) throw new Error(`onednn: ${kernel.kernelName} got inputs its native kernel does not take, and the cpu backend has no such kernel`);
    lastRun.set(kernel.kernelName, 'cpu');
    return cpu.kernelFunc(args);
  };
}

let registered = false;

/**
 * Registers the 'onednn' backend and its kernels: the addon's where it has one, the cpu
 * backend's otherwise. Idempotent. Priority below cpu, so it runs only when chosen.
 */
export function registerOneDnnBackend(binding: OneDnnBinding): void {
  if (registered) return;
  registered = true;
  tf.registerBackend(ONEDNN_BACKEND, () => new OneDnnBackend(binding), 0);
  const native = new Map(nativeKernels.map((k) => [k.kernelName, k]));
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  for (const [name, cpu] of cpuKernels) {
    if (native.has(name)) continue;
    tf.registerKernel({ ...cpu, backendName: ONEDNN_BACKEND });
  }
  for (const kernel of nativeKernels) {
    const cpu = cpuKernels.get(kernel.kernelName);
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: ONEDNN_BACKEND, kernelFunc: nativeThenCpu(kernel, cpu) });
  }
  tf.registerGradient(batchNormTrainingGradConfig);
  tf.registerGradient(dropoutGradConfig);
  tf.registerGradient(conv2DBiasReluGradConfig);
}

/** Which kernels of the 'onednn' backend are native (the rest fall back to the cpu backend's). */
export function isNativeKernel(kernelName: string): boolean {
  return nativeKernels.some((k) => k.kernelName === kernelName);
}
