import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendHost } from './backend-host';
import { probeNativeBinding } from './native-binding';
import type { NativePackage } from './native-binding';
import { configureWasmBackend, describeWasmDevice } from './wasm-setup';
import { registerWasmTrainingKernels } from './kernels/register-training-kernels';

/**
 * The backends gradsync can run on, each as data: an id and how to load it. `selectBackend` owns
 * the policy (order, what is an error); this file only knows how to bring each one up.
 *
 * Adding one (e.g. 'webgpu' through @tensorflow/tfjs-backend-webgpu, once Node has a WebGPU
 * implementation): add its id to `BackendId`, write a candidate below whose `activate` throws
 * `BackendUnavailable` with a reason when it cannot run, and put it in `autoOrder` where it ranks
 * (between 'tensorflow' and 'wasm' for a GPU backend).
 */
export type BackendId = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendContext {
  /** Physical GPU index (--gpu); only the tensorflow-gpu candidate uses it. */
  gpu?: number;
  host: BackendHost;
}

export interface BackendCandidate {
  readonly id: BackendId;
  /** Loads the backend and makes it TensorFlow.js's active one; returns a device label. */
  activate(context: BackendContext): Promise<{ device: string }>;
}

/** A backend that cannot run here; the message says why (one line). */
export class BackendUnavailable extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'BackendUnavailable';
  }
}

export const GPU_REQUIREMENTS =
  'tfjs-node-gpu 4.x needs Linux x64, an NVIDIA driver, and CUDA 11.2 with cuDNN 8.1 on the library path';

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message;
}

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
    try {
      // libtensorflow reads CUDA_VISIBLE_DEVICES once, when it initialises CUDA: set it first.
      await activateNative('@tensorflow/tfjs-node-gpu', context, () => {
        if (gpu != null) context.host.env.CUDA_VISIBLE_DEVICES = String(gpu);
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
    return { device: gpu != null ? `GPU ${gpu} (CUDA)` : 'GPU (CUDA, first visible device)' };
  },
};

export const tensorflowCandidate: BackendCandidate = {
  id: 'tensorflow',
  async activate(context) {
    await activateNative('@tensorflow/tfjs-node', context);
    return { device: 'CPU (libtensorflow)' };
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

/** `--backend auto` tries these in order (tensorflow-gpu only when --gpu is given). */
export const autoOrder: readonly BackendCandidate[] = [
  tensorflowGpuCandidate,
  tensorflowCandidate,
  // A future 'webgpu' candidate goes here.
  wasmCandidate,
  cpuCandidate,
];

export function candidateFor(id: BackendId): BackendCandidate {
  const candidate = autoOrder.find((c) => c.id === id);
  if (candidate == null) throw new Error(`no backend candidate '${id}'`);
  return candidate;
}
