import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebGpuDeps } from '@gradsync/backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import type { BackendHost } from './backend-host';
import { selectBackend } from './select-backend';
import { loadOneDnnBinding, ONEDNN_REBUILD } from '@gradsync/backend-onednn';
import { noteSkip } from '@gradsync/test-skips';
import type { BindingProbe } from '@gradsync/backend-onednn';

// Dawn (npm `webgpu`) with no adapter on any backend, and no Vulkan loader: the webgpu paths
// here never touch a real GPU stack (webgpu-device.test.ts covers adapter choice).
// As if the machine had a GPU, so webgpu gets as far as Dawn (faked) whatever this machine has.
const noWebGpuStack: WebGpuDeps = {
  loadDawn: async () => ({ globals: {}, create: () => ({ requestAdapter: async () => null }) }) as unknown as Awaited<ReturnType<WebGpuDeps['loadDawn']>>,
  canLoadSharedLibrary: () => false,
  dawnWarnings: () => [],
  gpuDeviceNodes: () => ['/dev/nvidia0'],
};

const binaryField = {
  module_name: 'tfjs_binding',
  module_path: './lib/napi-v{napi_build_version}',
  napi_versions: [3, 4, 5, 6, 7, 8],
};
const root = '/fake/node_modules/@tensorflow';
const bindingOf = (pkg: string) => path.join(root, pkg, 'lib/napi-v8/tfjs_binding.node');

/**
 * A host where the native packages are installed; `withBinding` lists those whose binding file
 * exists; `load` stands in for requiring one (by default it does what tfjs-node does: register and
 * activate a 'tensorflow' backend, here a cpu backend in disguise).
 */
function fakeHost(options: { withBinding?: string[]; gpuDevice?: boolean; load?: (name: string) => void; onednn?: BindingProbe }) {
  const loaded: { name: string; cudaVisibleDevices: string | undefined }[] = [];
  const env: Record<string, string | undefined> = {};
  const host: BackendHost = {
    resolvePackageJson: (name) => path.join(root, name.replace('@tensorflow/', ''), 'package.json'),
    readFile: () => JSON.stringify({ binary: binaryField }),
    fileExists: (p) => (options.withBinding ?? []).some((pkg) => bindingOf(pkg) === p),
    loadModule: (name) => {
      loaded.push({ name, cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES });
      if (options.load) return options.load(name);
      tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: options.gpuDevice ?? false }), 3);
      void tf.setBackend('tensorflow');
    },
    napiVersion: 9,
    env,
    loadOneDnn: () => options.onednn ?? { ok: false, why: 'the oneDNN addon is not built (fake host)' },
    webGpu: noWebGpuStack,
  };
  return { host, loaded, env };
}

afterEach(() => {
  if ('tensorflow' in tf.engine().registryFactory) tf.removeBackend('tensorflow');
});

describe('selectBackend', () => {
  it('auto without --gpu: skips the native backends whose binding is missing, without loading them', async () => {
    const { host, loaded } = fakeHost({});
    const selection = await selectBackend({ backend: 'auto' }, host);
    expect(loaded).toEqual([]);
    expect(selection.name).toBe('wasm');
    expect(selection.device).toMatch(/^CPU \(wasm( SIMD)?, 1 thread\)$/);
    expect(selection.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'onednn']);
    expect(selection.skipped[0]!.why).toBe('no --gpu given');
    expect(selection.skipped[1]!.why).toBe('no --gpu given');
    expect(selection.skipped[2]!.why).toMatch(
      /native binding .* is missing.*`pnpm rebuild --filter @gradsync\/backends --config\.dangerously-allow-all-builds=true @tensorflow\/tfjs-node`/,
    );
    expect(selection.skipped[3]!.why).toBe('the oneDNN addon is not built (fake host)');
    expect(selection.summary).not.toContain('\n');
    expect(selection.summary).toMatch(
      /^TensorFlow\.js backend wasm on CPU .*: the best one that loaded \(--backend auto\); not used: tensorflow-gpu - no --gpu given; webgpu - no --gpu given; tensorflow - @tensorflow\/tfjs-node's native binding/,
    );
    expect(tf.getBackend()).toBe('wasm');
  });

  const addon = loadOneDnnBinding();
  if (!addon.ok)
    noteSkip({
      suite: 'selectBackend: auto takes onednn (packages/backends/src/select-backend.test.ts)',
      why: addon.why,
      apt: ['g++', 'libdnnl-dev'],
      then: ONEDNN_REBUILD,
    });
  it.skipIf(!addon.ok)('auto: takes onednn when its addon loads, with the threads asked for', async () => {
    const { host } = fakeHost({ onednn: loadOneDnnBinding() });
    const selection = await selectBackend({ backend: 'auto', threads: 1 }, host);
    expect(selection.name).toBe('onednn');
    expect(selection.device).toMatch(/^CPU \(oneDNN \d+\.\d+\.\d+, .*, 1 thread\)$/);
    expect(selection.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow']);
    expect(tf.getBackend()).toBe('onednn');
  });

  it('--threads must be a positive integer', async () => {
    const { host } = fakeHost({});
    await expect(selectBackend({ backend: 'auto', threads: 0 }, host)).rejects.toThrow(/--threads must be a positive integer, got 0/);
    await expect(selectBackend({ backend: 'auto', threads: 1.5 }, host)).rejects.toThrow(/--threads must be a positive integer/);
  });

  it('auto: takes tfjs-node when its binding exists', async () => {
    const { host, loaded } = fakeHost({ withBinding: ['tfjs-node'] });
    const selection = await selectBackend({ backend: 'auto' }, host);
    expect(loaded.map((l) => l.name)).toEqual(['@tensorflow/tfjs-node']);
    expect(selection).toMatchObject({ name: 'tensorflow', device: 'CPU (libtensorflow)' });
  });

  it('explicit tensorflow-gpu with the binding missing: a GradsyncError naming CUDA 11.2, cuDNN 8.1 and the fix', async () => {
    const { host, loaded } = fakeHost({});
    const error = await selectBackend({ backend: 'tensorflow-gpu', gpu: 0 }, host).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GradsyncError);
    const message = (error as GradsyncError).message;
    expect(message).toMatch(/CUDA 11\.2/);
    expect(message).toMatch(/cuDNN 8\.1/);
    expect(message).toMatch(/--config\.dangerously-allow-all-builds=true @tensorflow\/tfjs-node-gpu`/);
    expect((error as GradsyncError).code).toBe('BACKEND_UNAVAILABLE');
    expect(loaded).toEqual([]);
  });

  it('auto with --gpu never falls back to the CPU', async () => {
    const { host, loaded } = fakeHost({ withBinding: ['tfjs-node'] });
    await expect(selectBackend({ backend: 'auto', gpu: 1 }, host)).rejects.toThrow(/--gpu 1.*CUDA 11\.2.*cuDNN 8\.1/);
    expect(loaded).toEqual([]);
  });

  it('auto with --gpu: tries tfjs-node-gpu, then webgpu, and names what each lacked', async () => {
    const { host } = fakeHost({});
    const error = (await selectBackend({ backend: 'auto', gpu: 0 }, host).catch((e: unknown) => e)) as GradsyncError;
    expect(error).toBeInstanceOf(GradsyncError);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(
      /^--gpu 0: no GPU backend can run: tensorflow-gpu - .*CUDA 11\.2 with cuDNN 8\.1.*; webgpu - Vulkan: no Vulkan loader \(libvulkan\.so\.1/,
    );
    expect(error.message).toMatch(/Not falling back to the CPU/);
    expect(tf.getBackend()).not.toBe('webgpu');
  });

  it('explicit webgpu with no adapter: a GradsyncError naming the missing Vulkan loader', async () => {
    const { host } = fakeHost({});
    await expect(selectBackend({ backend: 'webgpu' }, host)).rejects.toThrow(
      /^--backend webgpu cannot run: Vulkan: no Vulkan loader \(libvulkan\.so\.1 .*apt-get install libvulkan1\); OpenGL ES: no OpenGL ES adapter/,
    );
  });

  it('sets CUDA_VISIBLE_DEVICES before loading tfjs-node-gpu', async () => {
    const { host, loaded, env } = fakeHost({ withBinding: ['tfjs-node-gpu'], gpuDevice: true });
    const selection = await selectBackend({ backend: 'auto', gpu: 3 }, host);
    expect(loaded).toEqual([{ name: '@tensorflow/tfjs-node-gpu', cudaVisibleDevices: '3' }]);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('3');
    expect(selection).toMatchObject({ name: 'tensorflow', device: 'GPU 3 (CUDA)', reason: '--gpu 3 given', skipped: [] });
  });

  it("under a scheduler's CUDA_VISIBLE_DEVICES, --gpu N takes the N-th listed device (never physical GPU N)", async () => {
    const { host, loaded, env } = fakeHost({ withBinding: ['tfjs-node-gpu'], gpuDevice: true });
    env.CUDA_VISIBLE_DEVICES = '4,6';
    const selection = await selectBackend({ backend: 'auto', gpu: 1 }, host);
    expect(loaded).toEqual([{ name: '@tensorflow/tfjs-node-gpu', cudaVisibleDevices: '6' }]);
    expect(selection.device).toBe('GPU 1 (CUDA device 6, entry 1 of CUDA_VISIBLE_DEVICES=4,6)');
  });

  it("--gpu past the scheduler's CUDA_VISIBLE_DEVICES is an error before anything loads", async () => {
    const { host, loaded, env } = fakeHost({ withBinding: ['tfjs-node-gpu'], gpuDevice: true });
    env.CUDA_VISIBLE_DEVICES = '4,6';
    await expect(selectBackend({ backend: 'tensorflow-gpu', gpu: 2 }, host)).rejects.toThrow('--gpu 2: CUDA_VISIBLE_DEVICES=4,6 makes only 2 GPU(s) visible');
    expect(loaded).toEqual([]);
  });

  it('refuses a tfjs-node-gpu that loaded but sees no GPU (it would quietly run on the CPU)', async () => {
    const { host } = fakeHost({ withBinding: ['tfjs-node-gpu'], gpuDevice: false });
    await expect(selectBackend({ backend: 'tensorflow-gpu', gpu: 0 }, host)).rejects.toThrow(/no usable GPU \(CUDA_VISIBLE_DEVICES=0\).*CUDA 11\.2/);
  });

  it('reports a binding that fails to load with the first line of its error', async () => {
    const { host } = fakeHost({
      withBinding: ['tfjs-node-gpu'],
      load: () => {
        throw new Error('libcudart.so.11.0: cannot open shared object file\n    at Module._extensions');
      },
    });
    await expect(selectBackend({ backend: 'tensorflow-gpu', gpu: 0 }, host)).rejects.toThrow(
      /loading @tensorflow\/tfjs-node-gpu failed: libcudart\.so\.11\.0: cannot open shared object file\. tfjs-node-gpu/,
    );
  });

  it('explicit tensorflow with the binding missing is an error, not a wasm run', async () => {
    const { host } = fakeHost({});
    await expect(selectBackend({ backend: 'tensorflow' }, host)).rejects.toThrow(GradsyncError);
  });

  it('rejects contradictory and malformed options', async () => {
    const { host } = fakeHost({});
    await expect(selectBackend({ backend: 'cpu', gpu: 0 }, host)).rejects.toMatchObject({ code: 'BACKEND_CONFLICT' });
    await expect(selectBackend({ backend: 'wasm', gpu: 0 }, host)).rejects.toThrow(/needs --backend auto, tensorflow-gpu or webgpu/);
    await expect(selectBackend({ backend: 'auto', gpu: -1 }, host)).rejects.toMatchObject({ code: 'BACKEND_BAD_GPU' });
    await expect(selectBackend({ backend: 'webgl' as never }, host)).rejects.toMatchObject({ code: 'BACKEND_UNKNOWN' });
  });

  it('explicit cpu: runs on cpu without the "install the node backend" banner', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { host } = fakeHost({});
    const selection = await selectBackend({ backend: 'cpu' }, host);
    expect(selection).toMatchObject({ name: 'cpu', device: 'CPU (plain JavaScript)', reason: 'requested with --backend cpu' });
    tf.tidy(() => tf.add(tf.tensor([1, 2]), 1).dataSync());
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/looks like you are running TensorFlow\.js in Node/);
    // Sanity check: a fresh cpu backend does print it.
    new MathBackendCPU().write(new Float32Array(1), [1], 'float32');
    expect(warn.mock.calls.flat().join(' ')).toMatch(/looks like you are running TensorFlow\.js in Node/);
    warn.mockRestore();
  });
});
