import { BackendUnavailable, firstLine } from '@gradsync/core';
import {
  chooseAdapter,
  dawnBackendLabel,
  dawnBackendOrder,
  featureLevelFor,
  isSoftwareAdapter,
  LIST_ADAPTERS_NAME,
  OPTIONAL_FEATURES,
  parseDawnAdapterList,
  requiredLimitsFrom,
} from './webgpu-adapters';
import type { DawnAdapterEntry } from './webgpu-adapters';
import { canLoadSharedLibrary, dawnWarningsFor } from './webgpu-diagnosis';
import { GPU_DEVICE_NODES, localGpuDeviceNodes } from './gpu-device-nodes';

/**
 * Getting a GPUDevice from Dawn's WebGPU for Node (npm `webgpu`, which ships `dawn.node`) for
 * tfjs-backend-webgpu, or a BackendUnavailable that says what was missing. The `webgpu` module is
 * the boundary: tests replace it (vi.mock('webgpu')) and ./webgpu-diagnosis.
 */

/** The parts of dawn.node's objects used here (structural, so tests can fake them). */
export interface DawnAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface DawnDevice {
  destroy(): void;
  readonly lost?: Promise<{ reason?: string; message?: string }>;
  addEventListener?(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
}
export interface DawnAdapter {
  readonly info: DawnAdapterInfo;
  readonly features: ReadonlySet<string>;
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<DawnDevice>;
}
export interface DawnGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
}
export interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

export interface WebGpuRequest {
  /** `--gpu N`: entry N of Dawn's adapter list; otherwise the first adapter Dawn offers. */
  gpu?: number;
  /** `--backend auto --gpu N`: a real GPU or nothing (no software rasteriser). */
  requireHardware: boolean;
  /** Read for DAWNNODE_BACKEND; EGL_PLATFORM is set here for the OpenGL ES path when unset. */
  env: Record<string, string | undefined>;
}

export interface WebGpuDevice {
  dawn: DawnModule;
  gpu: DawnGpu;
  adapter: DawnAdapter;
  device: DawnDevice;
  /** 'vulkan', 'opengles', ... */
  dawnBackend: string;
  /** The adapter's index in Dawn's list for that backend, and its name there. */
  index: number;
  adapterName: string;
  /** How many adapters Dawn listed for that backend. */
  adapterCount: number;
  software: boolean;
  /** Why earlier Dawn backends were passed over (e.g. "Vulkan: no Vulkan loader ..."). */
  passedOver: string[];
}

export interface WebGpuDeps {
  loadDawn(): Promise<DawnModule>;
  canLoadSharedLibrary(name: string): boolean;
  dawnWarnings(flags: string[], options: Record<string, unknown>, env: Record<string, string | undefined>): string[];
  /** The machine's GPU device nodes; null where that cannot be told (not Linux). */
  gpuDeviceNodes(): string[] | null;
}

export const nodeWebGpuDeps: WebGpuDeps = {
  loadDawn: async () => (await import('webgpu')) as unknown as DawnModule,
  canLoadSharedLibrary,
  dawnWarnings: dawnWarningsFor,
  gpuDeviceNodes: localGpuDeviceNodes,
};

export const VULKAN_LOADER = 'libvulkan.so.1';

/** Lists Dawn's adapters for one backend by asking for a name none has (see webgpu-adapters.ts). */
export async function listAdapters(dawn: DawnModule, dawnBackend: string, options: Record<string, unknown>): Promise<DawnAdapterEntry[]> {
  try {
    // Dawn resolves null when it has no adapter at all (and rejects, listing them, when it has some).
    await dawn.create([`backend=${dawnBackend}`, `adapter=${LIST_ADAPTERS_NAME}`]).requestAdapter(options);
    return [];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const list = parseDawnAdapterList(message);
    if (list.length === 0) throw new BackendUnavailable(`Dawn refused backend '${dawnBackend}': ${firstLine(err)}`);
    return list;
  }
}

/** Why Dawn offers no adapter on this backend, with what to install or change. */
function whyNoAdapter(dawnBackend: string, flags: string[], options: Record<string, unknown>, request: WebGpuRequest, deps: WebGpuDeps): string {
  const warnings = deps.dawnWarnings(flags, options, request.env);
  const said = warnings.length > 0 ? ` (Dawn: ${warnings.slice(0, 3).join(' / ')})` : '';
  if (dawnBackend === 'vulkan') {
    if (warnings.some((w) => /found no drivers|INCOMPATIBLE_DRIVER/i.test(w))) {
      return (
        `no Vulkan driver: the Vulkan loader found no ICD for this GPU${said}. NVIDIA: the driver's ` +
        `nvidia_icd.json must be in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d; in a container ` +
        `NVIDIA_DRIVER_CAPABILITIES must include graphics (the default compute,utility leaves Vulkan out)`
      );
    }
    if (warnings.some((w) => /required|not supported|missing/i.test(w))) {
      return `Dawn refused the Vulkan adapter: it lacks features WebGPU needs${said}`;
    }
    return `Dawn found no Vulkan adapter${said}`;
  }
  if (dawnBackend === 'opengles' || dawnBackend === 'opengl') {
    return `no ${dawnBackendLabel(dawnBackend)} adapter${said}; it needs EGL and a driver (Mesa: apt-get install libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri)`;
  }
  return `no adapter${said}`;
}

/**
 * Tries each Dawn backend in turn (DAWNNODE_BACKEND, else Vulkan then OpenGL ES) and returns the
 * first adapter that fits the request with a device created on it, raising the limits
 * tfjs-backend-webgpu raises. Throws BackendUnavailable listing every backend's reason.
 */
export async function acquireWebGpuDevice(request: WebGpuRequest, deps: WebGpuDeps = nodeWebGpuDeps): Promise<WebGpuDevice> {
  // A real GPU or nothing, and no GPU here: Dawn could offer only a software rasteriser, and
  // asking it prints its OpenGL ES warnings on fd 2 (see gpu-device-nodes.ts). An explicit
  // --backend webgpu still asks Dawn, warnings and all.
  if (request.requireHardware && deps.gpuDeviceNodes()?.length === 0) {
    throw new BackendUnavailable(`no GPU on this machine (none of ${GPU_DEVICE_NODES} exists), so Dawn was not asked`);
  }
  let dawn: DawnModule;
  try {
    dawn = await deps.loadDawn();
  } catch (err) {
    throw new BackendUnavailable(`the webgpu package (Dawn's dawn.node) did not load: ${firstLine(err)}`);
  }
  const passedOver: string[] = [];
  for (const dawnBackend of dawnBackendOrder(request.env)) {
    const api = dawnBackendLabel(dawnBackend);
    const featureLevel = featureLevelFor(dawnBackend);
    const options = { featureLevel, powerPreference: 'high-performance' };
    if (dawnBackend === 'vulkan' && process.platform === 'linux' && !deps.canLoadSharedLibrary(VULKAN_LOADER)) {
      passedOver.push(`${api}: no Vulkan loader (${VULKAN_LOADER} is not on the library path; Debian/Ubuntu: apt-get install libvulkan1)`);
      continue;
    }
    // Mesa's EGL needs a platform; without a display only 'surfaceless' works.
    if (featureLevel === 'compatibility' && !request.env.EGL_PLATFORM) request.env.EGL_PLATFORM = 'surfaceless';

    let list: DawnAdapterEntry[];
    try {
      list = await listAdapters(dawn, dawnBackend, options);
    } catch (err) {
      if (!(err instanceof BackendUnavailable)) throw err;
      passedOver.push(`${api}: ${err.message}`);
      continue;
    }
    if (list.length === 0) {
      passedOver.push(`${api}: ${whyNoAdapter(dawnBackend, [`backend=${dawnBackend}`], options, request, deps)}`);
      continue;
    }
    let entry: DawnAdapterEntry;
    if (request.gpu != null) {
      const choice = chooseAdapter(list, request.gpu, request.requireHardware);
      if (!choice.ok) {
        passedOver.push(`${api}: ${choice.why}`);
        continue;
      }
      entry = choice.entry;
    } else {
      const first = list.find((e) => !request.requireHardware || !isSoftwareAdapter(e.name));
      if (first == null) {
        passedOver.push(`${api}: only software rasterisers, no GPU (${list.map((e) => `'${e.name}'`).join(', ')})`);
        continue;
      }
      entry = first;
    }

    const flags = [`backend=${dawnBackend}`, `adapter=${entry.name}`];
    const gpu = dawn.create(flags);
    let adapter: DawnAdapter | null;
    try {
      adapter = await gpu.requestAdapter(options);
    } catch (err) {
      passedOver.push(`${api}: requesting adapter '${entry.name}' failed: ${firstLine(err)}`);
      continue;
    }
    if (adapter == null) {
      passedOver.push(`${api}: Dawn listed '${entry.name}' but then returned no adapter`);
      continue;
    }
    const software = isSoftwareAdapter(entry.name, adapter.info.isFallbackAdapter);
    if (software && request.requireHardware) {
      passedOver.push(`${api}: adapter '${entry.name}' is a software rasteriser on the CPU, not a GPU`);
      continue;
    }
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    let device: DawnDevice;
    try {
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits: requiredLimitsFrom(adapter.limits) });
    } catch (err) {
      passedOver.push(`${api}: adapter '${entry.name}' refused the device tfjs-backend-webgpu needs: ${firstLine(err)}`);
      continue;
    }
    return { dawn, gpu, adapter, device, dawnBackend, index: entry.index, adapterName: entry.name, adapterCount: list.length, software, passedOver };
  }
  throw new BackendUnavailable(passedOver.join('; '));
}
