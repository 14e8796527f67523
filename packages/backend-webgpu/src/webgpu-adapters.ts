/**
 * Choosing a WebGPU adapter from what Dawn (npm `webgpu`, dawn.node) offers: pure functions, no
 * GPU. webgpu-device.ts does the talking to Dawn.
 *
 * What Dawn's Node binding gives us to choose with (webgpu 0.6.2):
 * - `create(['backend=vulkan'])` fixes the native API; without it Linux uses Vulkan.
 * - `create(['adapter=NAME'])` makes `requestAdapter` return the first adapter, in Dawn's order,
 *   whose name contains NAME. There is no index. Asking for a name nothing has rejects with a
 *   message that lists every adapter ("Available adapters:\n * backend: 'vulkan', name: '...'"),
 *   which is how we enumerate them.
 * So `--gpu N` means entry N of that list, reached by its name; two identical GPUs have the same
 * name, and only the first of them can be reached that way.
 */

/** Dawn's native APIs that run on Linux; `DAWNNODE_BACKEND` (Dawn's own variable) forces one. */
export type DawnBackend = 'vulkan' | 'opengles' | 'opengl';

export interface DawnAdapterEntry {
  /** Position in Dawn's list for that backend: what `--gpu N` counts. */
  index: number;
  backend: string;
  /** The adapter's name as Dawn matches it (e.g. 'NVIDIA H100 80GB HBM3', 'llvmpipe (LLVM 15.0.6, 256 bits)'). */
  name: string;
}

/** A name no adapter has: asking for it makes Dawn list them all. */
export const LIST_ADAPTERS_NAME = '\u0001gradsync-lists-adapters';

/** Reads Dawn's "Available adapters:" list out of a requestAdapter rejection; [] when there is none. */
export function parseDawnAdapterList(message: string): DawnAdapterEntry[] {
  const out: DawnAdapterEntry[] = [];
  for (const line of message.split('\n')) {
    const m = /^\s*\*\s*backend:\s*'([^']*)',\s*name:\s*'(.*)'\s*$/.exec(line);
    if (m != null) out.push({ index: out.length, backend: m[1]!, name: m[2]! });
  }
  return out;
}

const SOFTWARE_NAME = /llvmpipe|lavapipe|softpipe|swiftshader/i;

/** Mesa's llvmpipe/lavapipe/softpipe and SwiftShader run on the CPU: usable for checks, not for speed. */
export function isSoftwareAdapter(name: string, isFallbackAdapter?: boolean): boolean {
  return isFallbackAdapter === true || SOFTWARE_NAME.test(name);
}

/**
 * The Dawn backends to try, in order: the one `DAWNNODE_BACKEND` names, else Vulkan (the GPU path)
 * and then OpenGL ES (Mesa's llvmpipe on a machine without a GPU, or a GPU whose Vulkan driver is
 * missing). Unknown values are passed through so Dawn's own error lists the valid ones.
 */
export function dawnBackendOrder(env: Record<string, string | undefined>): string[] {
  const forced = env.DAWNNODE_BACKEND?.trim().toLowerCase();
  if (forced) return [forced === 'gles' ? 'opengles' : forced === 'gl' ? 'opengl' : forced === 'vk' ? 'vulkan' : forced];
  return ['vulkan', 'opengles'];
}

/** Dawn implements the OpenGL backends only in WebGPU's compatibility mode. */
export function featureLevelFor(dawnBackend: string): 'core' | 'compatibility' {
  return dawnBackend === 'opengles' || dawnBackend === 'opengl' ? 'compatibility' : 'core';
}

export function dawnBackendLabel(dawnBackend: string): string {
  return dawnBackend === 'vulkan' ? 'Vulkan' : dawnBackend === 'opengles' ? 'OpenGL ES' : dawnBackend === 'opengl' ? 'OpenGL' : dawnBackend;
}

export type AdapterChoice = { ok: true; entry: DawnAdapterEntry } | { ok: false; why: string };

function describeList(list: readonly DawnAdapterEntry[]): string {
  return list.map((e) => `${e.index} '${e.name}'`).join(', ');
}

/**
 * Entry `gpu` of Dawn's list for one backend, if Dawn can be made to return exactly that one with
 * `adapter=<name>` (the first entry whose name contains the chosen name must be the chosen one),
 * and, when `requireHardware`, if it is not a software rasteriser.
 */
export function chooseAdapter(list: readonly DawnAdapterEntry[], gpu: number, requireHardware: boolean): AdapterChoice {
  const api = list[0] != null ? `${dawnBackendLabel(list[0].backend)} ` : '';
  if (gpu >= list.length) {
    return {
      ok: false,
      why: `no adapter ${gpu}: Dawn lists ${list.length} ${api}adapter${list.length === 1 ? '' : 's'} (${describeList(list)})`,
    };
  }
  const entry = list[gpu]!;
  if (requireHardware && isSoftwareAdapter(entry.name)) {
    return { ok: false, why: `adapter ${gpu} '${entry.name}' is a software rasteriser on the CPU, not a GPU` };
  }
  const first = list.find((e) => e.name.includes(entry.name))!;
  if (first.index !== gpu) {
    return {
      ok: false,
      why:
        `adapter ${gpu} '${entry.name}' cannot be told apart from adapter ${first.index} '${first.name}': ` +
        `Dawn picks adapters by name only. Make just that GPU visible to the process ` +
        `(e.g. a container started with --gpus device=${gpu}) and use --gpu 0`,
    };
  }
  return { ok: true, entry };
}

/** The adapter limits tfjs-backend-webgpu raises to the adapter's maximum (as its own factory does), plus storage buffers per stage. */
export const RAISED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  // Compatibility mode starts this low; a fused conv binds up to 5 inputs plus its output.
  'maxStorageBuffersPerShaderStage',
] as const;

export function requiredLimitsFrom(adapterLimits: Partial<Record<(typeof RAISED_LIMITS)[number], number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = adapterLimits[name];
    if (typeof value === 'number') out[name] = value;
  }
  return out;
}

/** Features tfjs-backend-webgpu uses when the adapter has them (its own factory asks for the same). */
export const OPTIONAL_FEATURES = ['timestamp-query', 'bgra8unorm-storage'] as const;
