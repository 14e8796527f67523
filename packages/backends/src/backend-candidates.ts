import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendHost } from './backend-host';
import { BackendUnavailable, firstLine } from '@gradsync/core';
import { probeNativeBinding } from './native-binding';
import type { NativePackage } from './native-binding';
import { configureWasmBackend, describeWasmDevice } from '@gradsync/backend-wasm/node';
import { cudaVisibleDevicesFor } from '@gradsync/cluster';
import { registerWasmTrainingKernels } from '@gradsync/backend-wasm';
import { activateWebGpuBackend } from '@gradsync/backend-webgpu';
import { ONEDNN_BACKEND, registerOneDnnBackend } from '@gradsync/backend-onednn';

/**
 * The backends gradsync can run on, each as data: an id and how to load it. `selectBackend` owns
 * the policy (order, what is an error); this file only knows how to bring each one up.
 *
 * Adding one: add its id to `BackendId`, write a candidate below whose `activate` throws
 * `BackendUnavailable` with a reason when it cannot run, and put it in `autoOrder` where it ranks
 * (GPU backends first; `selectBackend` tries them only with --gpu).
 */
export type BackendId = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'onednn' | 'wasm' | 'cpu';

/** The backends that run on a GPU: `auto` tries them only with --gpu, and only them. */
export const gpuBackendIds: readonly BackendId[] = ['tensorflow-gpu', 'webgpu'];

export interface BackendContext {
  /** Physical GPU index (--gpu): CUDA's index for tensorflow-gpu, Dawn's adapter index for webgpu. */
  gpu?: number;
  host: BackendHost;
  /** `auto --gpu N`: accept a real GPU only (webgpu refuses software rasterisers such as llvmpipe). */
  requireHardware?: boolean;
  /** CPU threads for the backends that use several (onednn); default: OpenMP's (OMP_NUM_THREADS, else every core). */
  threads?: number;
}

export interface BackendCandidate {
  readonly id: BackendId;
  /** Loads the backend and makes it TensorFlow.js's active one; returns a device label and an optional note for the summary. */
  activate(context: BackendContext): Promise<{ device: string; note?: string | null; softwareRasteriser?: boolean }>;
}

export { BackendUnavailable } from '@gradsync/core';

export const GPU_REQUIREMENTS = 'tfjs-node-gpu 4.x needs Linux x64, an NVIDIA driver, and CUDA 11.2 with cuDNN 8.1 on the library path';

async function activateNative(packageName: NativePackage, context: BackendContext, before?: () => void): Promise<void> {
  const probe = probeNativeBinding(packageName, context.host);
  if (!probe.found) throw new BackendUnavailable(probe.why);
  before?.();
  try {
    context.host.loadModule(packageName);
  } catch (err) {
    throw new BackendUnavailable(`loading ${packageName} failed: ${firstLine(err)}`);
  }
  if (tf.getBackend() !== 'tensorflow' && !(await tf.setBackend('tensorflow'))) {
    throw new BackendUnavailable(`${packageName} loaded but its 'tensorflow' backend did not initialise`);
  }
}

export const tensorflowGpuCandidate: BackendCandidate = {
  id: 'tensorflow-gpu',
  async activate(context) {
    const { gpu } = context;
    // Under a scheduler's CUDA_VISIBLE_DEVICES, --gpu N is the N-th device it hands out (cluster/cuda-devices.ts).
    const given = context.host.env.CUDA_VISIBLE_DEVICES;
    const device = gpu != null ? cudaVisibleDevicesFor(gpu, given) : undefined;
    try {
      // libtensorflow reads CUDA_VISIBLE_DEVICES once, when it initialises CUDA: set it first.
      await activateNative('@tensorflow/tfjs-node-gpu', context, () => {
        if (device != null) context.host.env.CUDA_VISIBLE_DEVICES = device;
      });
    } catch (err) {
      if (err instanceof BackendUnavailable) throw new BackendUnavailable(`${err.message}. ${GPU_REQUIREMENTS}`);
      throw err;
    }
    // Without usable CUDA libraries libtensorflow quietly places everything on the CPU.
    const backend = tf.backend() as tf.KernelBackend & { isUsingGpuDevice?: boolean };
    if (backend.isUsingGpuDevice !== true) {
      const visible = context.host.env.CUDA_VISIBLE_DEVICES;
      throw new BackendUnavailable(
        `@tensorflow/tfjs-node-gpu loaded but TensorFlow found no usable GPU` +
          `${visible != null ? ` (CUDA_VISIBLE_DEVICES=${visible})` : ''} and would run on the CPU. ${GPU_REQUIREMENTS}`,
      );
    }
    if (gpu == null) return { device: 'GPU (CUDA, first visible device)' };
    return { device: given === undefined ? `GPU ${gpu} (CUDA)` : `GPU ${gpu} (CUDA device ${device}, entry ${gpu} of CUDA_VISIBLE_DEVICES=${given})` };
  },
};

/**
 * WebGPU through Dawn's Node binding (npm `webgpu`) and @tensorflow/tfjs-backend-webgpu: any GPU
 * with a Vulkan driver, no CUDA. Without a GPU it can run on Mesa's llvmpipe over OpenGL ES (slow;
 * accepted only when asked for by name, labelled as software). See webgpu-device.ts.
 */
export const WEBGPU_REQUIREMENTS = "webgpu needs the Vulkan loader (libvulkan.so.1) and the GPU driver's Vulkan ICD (NVIDIA: part of the driver)";

export const webgpuCandidate: BackendCandidate = {
  id: 'webgpu',
  async activate(context) {
    const setup = await activateWebGpuBackend(
      {
        gpu: context.gpu,
        requireHardware: context.requireHardware ?? false,
        env: context.host.env,
      },
      context.host.webGpu,
    );
    return { device: setup.device, note: setup.note, softwareRasteriser: setup.software };
  },
};

export const tensorflowCandidate: BackendCandidate = {
  id: 'tensorflow',
  async activate(context) {
    await activateNative('@tensorflow/tfjs-node', context);
    return { device: 'CPU (libtensorflow)' };
  },
};

/**
 * oneDNN through gradsync's addon (packages/backend-onednn): built at install against the
 * system's libdnnl; when it is not built the reason names the package to install.
 */
export const onednnCandidate: BackendCandidate = {
  id: 'onednn',
  async activate(context) {
    const probe = context.host.loadOneDnn();
    if (!probe.ok) throw new BackendUnavailable(probe.why);
    registerOneDnnBackend(probe.binding);
    if (context.threads != null) probe.binding.setThreads(context.threads);
    if (!(await tf.setBackend(ONEDNN_BACKEND))) throw new BackendUnavailable('the onednn backend failed to initialise');
    const info = probe.binding.describe();
    const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
    return { device: `CPU (oneDNN ${info.version}, ${info.isa}, ${threads})` };
  },
};

export const wasmCandidate: BackendCandidate = {
  id: 'wasm',
  async activate() {
    const setup = await configureWasmBackend();
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) {
      throw new BackendUnavailable('the wasm module failed to initialise (see the message above)');
    }
    return { device: describeWasmDevice(setup) };
  },
};

export const cpuCandidate: BackendCandidate = {
  id: 'cpu',
  async activate() {
    if (!(await tf.setBackend('cpu'))) throw new BackendUnavailable('the cpu backend failed to initialise');
    return { device: 'CPU (plain JavaScript)' };
  },
};

/** `--backend auto` tries these in order (the GPU ones only, and only when --gpu is given). */
export const autoOrder: readonly BackendCandidate[] = [
  tensorflowGpuCandidate,
  webgpuCandidate,
  tensorflowCandidate,
  onednnCandidate,
  wasmCandidate,
  cpuCandidate,
];

export function candidateFor(id: BackendId): BackendCandidate {
  const candidate = autoOrder.find((c) => c.id === id);
  if (candidate == null) throw new Error(`no backend candidate '${id}'`);
  return candidate;
}
