import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BackendUnavailable } from '@gradsync/core';
import { acquireWebGpuDevice, nodeWebGpuDeps } from './webgpu-device';
import type { WebGpuDeps } from './webgpu-device';

/**
 * A stand-in for the `webgpu` package (dawn.node) that behaves as Dawn's Node binding does
 * (src/dawn/node/binding/GPU.cpp): `backend=` picks the native API, `adapter=` returns the first
 * adapter whose name contains it, an unknown name rejects with the list, no adapters resolves null.
 */
interface FakeAdapter {
  name: string;
  refuseDevice?: string;
}
const dawn = vi.hoisted(() => ({
  adapters: {} as Record<string, FakeAdapter[]>,
  created: [] as string[][],
  adapterOptions: [] as Record<string, unknown>[],
  deviceRequests: [] as { adapter: string; descriptor: unknown }[],
}));

vi.mock('webgpu', () => ({
  globals: { GPUBufferUsage: { MAP_READ: 1 } },
  create(flags: string[]) {
    dawn.created.push(flags);
    const flag = (key: string) => flags.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1);
    const backend = flag('backend') ?? 'vulkan';
    const wanted = flag('adapter');
    return {
      async requestAdapter(options: Record<string, unknown>) {
        dawn.adapterOptions.push(options);
        const list = dawn.adapters[backend] ?? [];
        if (list.length === 0) return null;
        const hit = wanted == null ? list[0] : list.find((a) => a.name.includes(wanted));
        if (hit == null) {
          const lines = list.map((a) => ` * backend: '${backend}', name: '${a.name}'`);
          throw new Error([`no adapter with backend '${backend}' and name '${wanted}' found`, 'Available adapters:', ...lines].join('\n'));
        }
        return {
          info: { vendor: 'v', architecture: '', device: hit.name.toLowerCase(), description: hit.name },
          features: new Set(['timestamp-query', 'shader-f16']),
          limits: { maxBufferSize: 4096, maxStorageBuffersPerShaderStage: 10, maxComputeWorkgroupSizeX: 256 },
          async requestDevice(descriptor: unknown) {
            dawn.deviceRequests.push({ adapter: hit.name, descriptor });
            if (hit.refuseDevice) throw new Error(`${hit.refuseDevice}\n - While validating required limits`);
            return { destroy() {}, adapterName: hit.name };
          },
        };
      },
    };
  },
}));

/** The real `webgpu` import (mocked above); the loader probe and Dawn's warnings as a test says. */
function deps(o: { vulkanLoader?: boolean; warnings?: Record<string, string[]>; gpuNodes?: string[] | null } = {}): WebGpuDeps {
  return {
    loadDawn: nodeWebGpuDeps.loadDawn,
    canLoadSharedLibrary: () => o.vulkanLoader ?? true,
    dawnWarnings: (flags) => o.warnings?.[flags[0]!.replace('backend=', '')] ?? [],
    gpuDeviceNodes: () => ('gpuNodes' in o ? o.gpuNodes! : ['/dev/nvidia0']),
  };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendUnavailable);
  return (err as Error).message;
}

beforeEach(() => {
  dawn.adapters = {};
  dawn.created = [];
  dawn.adapterOptions = [];
  dawn.deviceRequests = [];
});

describe('acquireWebGpuDevice', () => {
  it('no Vulkan loader and no OpenGL ES adapter: says which library is missing and what to install', async () => {
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: {} }, deps({ vulkanLoader: false })));
    expect(message).toMatch(/^Vulkan: no Vulkan loader \(libvulkan\.so\.1 is not on the library path; Debian\/Ubuntu: apt-get install libvulkan1\)/);
    expect(message).toMatch(/OpenGL ES: no OpenGL ES adapter; it needs EGL/);
    // Dawn's Vulkan path is not even created without the loader.
    expect(dawn.created.some((f) => f.includes('backend=vulkan'))).toBe(false);
  });

  it('a Vulkan loader without a driver: names the ICD and the container capability', async () => {
    const warnings = { vulkan: ['vkCreateInstance: Found no drivers!', 'vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER'] };
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: { DAWNNODE_BACKEND: 'vulkan' } }, deps({ warnings })));
    expect(message).toMatch(/^Vulkan: no Vulkan driver: the Vulkan loader found no ICD for this GPU \(Dawn: vkCreateInstance: Found no drivers!/);
    expect(message).toMatch(/nvidia_icd\.json.*NVIDIA_DRIVER_CAPABILITIES must include graphics/);
  });

  it('an adapter Dawn refuses (lavapipe): quotes the features it lacks', async () => {
    const warnings = { vulkan: ['Vulkan shaderUniform*ArrayDynamicIndexing required.'] };
    const message = await failure(acquireWebGpuDevice({ requireHardware: false, env: { DAWNNODE_BACKEND: 'vulkan' } }, deps({ warnings })));
    expect(message).toBe('Vulkan: Dawn refused the Vulkan adapter: it lacks features WebGPU needs (Dawn: Vulkan shaderUniform*ArrayDynamicIndexing required.)');
  });

  it('--gpu N selects entry N of the list by its name, and raises the limits tfjs needs on it', async () => {
    dawn.adapters.vulkan = [{ name: 'NVIDIA GeForce RTX 4090' }, { name: 'AMD Radeon PRO W7900 (RADV NAVI31)' }];
    const got = await acquireWebGpuDevice({ requireHardware: true, gpu: 1, env: {} }, deps());
    expect(got).toMatchObject({ dawnBackend: 'vulkan', index: 1, adapterName: 'AMD Radeon PRO W7900 (RADV NAVI31)', adapterCount: 2, software: false });
    expect(dawn.created.at(-1)).toEqual(['backend=vulkan', 'adapter=AMD Radeon PRO W7900 (RADV NAVI31)']);
    expect(dawn.deviceRequests).toEqual([
      {
        adapter: 'AMD Radeon PRO W7900 (RADV NAVI31)',
        descriptor: {
          requiredFeatures: ['timestamp-query'],
          requiredLimits: { maxBufferSize: 4096, maxStorageBuffersPerShaderStage: 10, maxComputeWorkgroupSizeX: 256 },
        },
      },
    ]);
    expect(dawn.adapterOptions.every((o) => o.featureLevel === 'core')).toBe(true);
  });

  it('--gpu out of range: lists the adapters there are', async () => {
    dawn.adapters.vulkan = [{ name: 'NVIDIA GeForce RTX 4090' }];
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 3, env: { DAWNNODE_BACKEND: 'vulkan' } }, deps()));
    expect(message).toBe("Vulkan: no adapter 3: Dawn lists 1 Vulkan adapter (0 'NVIDIA GeForce RTX 4090')");
  });

  it('a GPU is required: llvmpipe over OpenGL ES is refused; asked for by name, it is taken in compatibility mode', async () => {
    dawn.adapters.opengles = [{ name: 'llvmpipe (LLVM 15.0.6, 256 bits)' }];
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: {} }, deps({ vulkanLoader: false })));
    expect(message).toMatch(/OpenGL ES: adapter 0 'llvmpipe \(LLVM 15\.0\.6, 256 bits\)' is a software rasteriser on the CPU, not a GPU/);

    const env: Record<string, string | undefined> = {};
    const got = await acquireWebGpuDevice({ requireHardware: false, env }, deps({ vulkanLoader: false }));
    expect(got).toMatchObject({ dawnBackend: 'opengles', adapterName: 'llvmpipe (LLVM 15.0.6, 256 bits)', software: true });
    expect(got.passedOver).toEqual([expect.stringMatching(/^Vulkan: no Vulkan loader/)]);
    expect(dawn.adapterOptions.at(-1)).toMatchObject({ featureLevel: 'compatibility' });
    expect(env.EGL_PLATFORM).toBe('surfaceless');
  });

  it('an adapter that refuses the device: names the adapter and the refusal', async () => {
    dawn.adapters.vulkan = [{ name: 'Tiny GPU', refuseDevice: 'Required limit (10) is greater than the supported limit (8).' }];
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: { DAWNNODE_BACKEND: 'vulkan' } }, deps()));
    expect(message).toBe(
      "Vulkan: adapter 'Tiny GPU' refused the device tfjs-backend-webgpu needs: Required limit (10) is greater than the supported limit (8).",
    );
  });

  it('a real GPU asked for on a machine without GPU device nodes: Dawn is not loaded nor asked (no native warnings)', async () => {
    dawn.adapters.opengles = [{ name: 'llvmpipe (LLVM 15.0.6, 256 bits)' }];
    const loads: string[] = [];
    const counting: WebGpuDeps = { ...deps({ gpuNodes: [] }), loadDawn: () => (loads.push('dawn'), nodeWebGpuDeps.loadDawn()) };
    const message = await failure(acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: {} }, counting));
    expect(message).toBe('no GPU on this machine (none of /dev/nvidia*, /dev/dri/renderD*, /dev/dxg exists), so Dawn was not asked');
    expect(loads).toEqual([]);
    expect(dawn.created).toEqual([]);
  });

  it('--backend webgpu (software allowed) still asks Dawn without GPU device nodes; so does any platform that cannot tell (null)', async () => {
    dawn.adapters.opengles = [{ name: 'llvmpipe (LLVM 15.0.6, 256 bits)' }];
    const got = await acquireWebGpuDevice({ requireHardware: false, env: {} }, deps({ vulkanLoader: false, gpuNodes: [] }));
    expect(got.adapterName).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    dawn.adapters.vulkan = [{ name: 'NVIDIA L4' }];
    const hw = await acquireWebGpuDevice({ requireHardware: true, gpu: 0, env: {} }, deps({ gpuNodes: null }));
    expect(hw.adapterName).toBe('NVIDIA L4');
  });

  it('a webgpu package that does not load is reported as such', async () => {
    const broken: WebGpuDeps = { ...deps(), loadDawn: () => Promise.reject(new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found")) };
    const message = await failure(acquireWebGpuDevice({ requireHardware: false, env: {} }, broken));
    expect(message).toMatch(/^the webgpu package \(Dawn's dawn\.node\) did not load: .*GLIBC_2\.34/);
  });
});
