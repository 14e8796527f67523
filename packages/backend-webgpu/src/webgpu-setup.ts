import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailable } from '@gradsync/core';
import { dawnBackendLabel, requiredLimitsFrom } from './webgpu-adapters';
import { acquireWebGpuDevice, nodeWebGpuDeps } from './webgpu-device';
import type { DawnAdapterInfo, DawnDevice, DawnGpu, WebGpuDeps, WebGpuDevice, WebGpuRequest } from './webgpu-device';

/**
 * Brings up tfjs-backend-webgpu on a device from Dawn (webgpu-device.ts).
 *
 * tfjs-backend-webgpu 4.22 registers its own 'webgpu' factory when it is imported and
 * `navigator.gpu` already exists; that factory asks `requestAdapter` for a power preference only
 * (no adapter choice, no compatibility mode, a TypeError when there is no adapter). So the package
 * is imported before `navigator.gpu` is set, and 'webgpu' is registered here with the device
 * already chosen. `navigator.gpu` must still exist afterwards: the WebGPUBackend constructor checks
 * it. Dawn's `globals` (GPUBufferUsage, GPUMapMode, ...) are needed by the backend at run time.
 */

export interface WebGpuSetup {
  /**
   * e.g. 'GPU 0: NVIDIA H100 80GB HBM3 (WebGPU/Vulkan)'; a software adapter starts with 'CPU (' like
   * the other CPU backends' labels: 'CPU (software rasteriser llvmpipe (LLVM 15.0.6, 256 bits) via ...)'.
   */
  device: string;
  /** Why Dawn's earlier native APIs were not used, for the selection summary; null when none. */
  note: string | null;
  adapterName: string;
  dawnBackend: string;
  software: boolean;
  info: DawnAdapterInfo;
  /** The adapter's features and the limits raised for tfjs (for reports). */
  features: string[];
  limits: Record<string, number>;
}

interface TfjsWebGpuModule {
  WebGPUBackend: new (device: never, adapterInfo?: never) => tf.KernelBackend;
}

let active: { acquired: WebGpuDevice; setup: WebGpuSetup; key: string } | null = null;

function installNavigatorGpu(gpu: DawnGpu | undefined): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator == null) {
    if (gpu == null) return;
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  // Node 21+ has a navigator object without `gpu`; define it there rather than replace navigator.
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true });
}

function describe(acquired: WebGpuDevice): WebGpuSetup {
  const api = dawnBackendLabel(acquired.dawnBackend);
  const info = acquired.adapter.info;
  const device = acquired.software
    ? `CPU (software rasteriser ${acquired.adapterName} via WebGPU/${api}: a correctness path, not a speed path)`
    : `GPU ${acquired.index}: ${acquired.adapterName} (WebGPU/${api})`;
  const note = acquired.passedOver.length > 0 ? `webgpu passed over ${acquired.passedOver.join('; ')}` : null;
  return {
    device,
    note,
    adapterName: acquired.adapterName,
    dawnBackend: acquired.dawnBackend,
    software: acquired.software,
    info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    features: [...acquired.adapter.features].sort(),
    limits: requiredLimitsFrom(acquired.adapter.limits),
  };
}

function reportDeviceErrors(device: DawnDevice, adapterName: string): void {
  let reported = 0;
  device.addEventListener?.('uncapturederror', (event) => {
    if (reported++ < 5) process.stderr.write(`WebGPU error on ${adapterName}: ${event.error?.message ?? 'unknown'}\n`);
  });
  void device.lost?.then((info) => {
    if (info.reason !== 'destroyed') process.stderr.write(`WebGPU device ${adapterName} lost: ${info.message ?? info.reason}\n`);
  });
}

/**
 * Makes 'webgpu' TensorFlow.js's active backend on the adapter the request selects; idempotent for
 * the same request. Throws BackendUnavailable with the reasons when no adapter fits.
 */
export async function activateWebGpuBackend(
  request: WebGpuRequest,
  deps: WebGpuDeps = nodeWebGpuDeps,
  loadTfjsWebGpu: () => Promise<TfjsWebGpuModule> = async () => (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as TfjsWebGpuModule,
): Promise<WebGpuSetup> {
  const key = `${request.gpu ?? 'first'}/${request.requireHardware}`;
  if (active != null && active.key === key && 'webgpu' in tf.engine().registryFactory) {
    if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailable('tfjs-backend-webgpu failed to initialise again');
    return active.setup;
  }
  releaseWebGpuBackend();
  const acquired = await acquireWebGpuDevice(request, deps);
  let tfjsWebGpu: TfjsWebGpuModule;
  try {
    // Before navigator.gpu exists, so it does not register its own factory.
    tfjsWebGpu = await loadTfjsWebGpu();
  } catch (err) {
    acquired.device.destroy();
    throw new BackendUnavailable(`@tensorflow/tfjs-backend-webgpu did not load: ${(err as Error).message.split('\n')[0]}`);
  }
  for (const [name, value] of Object.entries(acquired.dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  installNavigatorGpu(acquired.gpu);
  reportDeviceErrors(acquired.device, acquired.adapterName);
  if ('webgpu' in tf.engine().registryFactory) tf.removeBackend('webgpu');
  const { WebGPUBackend } = tfjsWebGpu;
  tf.registerBackend('webgpu', () => new WebGPUBackend(acquired.device as never, acquired.adapter.info as never));
  if (!(await tf.setBackend('webgpu'))) {
    tf.removeBackend('webgpu');
    acquired.device.destroy();
    throw new BackendUnavailable(`tfjs-backend-webgpu failed to initialise on '${acquired.adapterName}' (see the message above)`);
  }
  const setup = describe(acquired);
  active = { acquired, setup, key };
  return setup;
}

/**
 * Drops the webgpu backend and its device, so nothing of Dawn keeps the process alive (dawn.node
 * runs while its GPU object is referenced). Another backend must be set before using tf again.
 */
export function releaseWebGpuBackend(): void {
  if (active == null) return;
  if ('webgpu' in tf.engine().registryFactory) tf.removeBackend('webgpu');
  active.acquired.device.destroy();
  installNavigatorGpu(undefined);
  active = null;
}

/** What is active now (for the bundle's adapter report); null before activation. */
export function activeWebGpu(): WebGpuSetup | null {
  return active?.setup ?? null;
}
