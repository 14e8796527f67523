import { describe, expect, it } from 'vitest';
import { chooseAdapter, dawnBackendOrder, featureLevelFor, isSoftwareAdapter, parseDawnAdapterList, requiredLimitsFrom } from './webgpu-adapters';

// The rejection Dawn's Node binding gives for `adapter=<a name nothing has>` (GPU.cpp).
const dawnRejection = [
  "no adapter with backend 'vulkan' and name 'x' found",
  'Available adapters:',
  " * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'",
  " * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'",
  " * backend: 'vulkan', name: 'AMD Radeon RX 7900 XTX (RADV NAVI31)'",
].join('\n');

describe('parseDawnAdapterList', () => {
  it("reads Dawn's adapter list in its order, with indexes", () => {
    expect(parseDawnAdapterList(dawnRejection)).toEqual([
      { index: 0, backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3' },
      { index: 1, backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3' },
      { index: 2, backend: 'vulkan', name: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' },
    ]);
  });

  it('keeps parentheses and commas in names, and finds nothing in other messages', () => {
    const list = parseDawnAdapterList("no adapter\nAvailable adapters:\n * backend: 'opengles', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'");
    expect(list).toEqual([{ index: 0, backend: 'opengles', name: 'llvmpipe (LLVM 15.0.6, 256 bits)' }]);
    expect(parseDawnAdapterList("unrecognised backend 'foo'\nPossible backends : 'null', 'vulkan'")).toEqual([]);
  });
});

describe('chooseAdapter', () => {
  const list = parseDawnAdapterList(
    "Available adapters:\n * backend: 'vulkan', name: 'NVIDIA GeForce RTX 4090'\n * backend: 'vulkan', name: 'NVIDIA RTX A6000'",
  );

  it('picks entry N of the list', () => {
    expect(chooseAdapter(list, 1, true)).toEqual({ ok: true, entry: list[1] });
    expect(chooseAdapter(list, 0, true)).toEqual({ ok: true, entry: list[0] });
  });

  it('an index past the end names the adapters there are', () => {
    const choice = chooseAdapter(list, 2, true);
    expect(choice.ok).toBe(false);
    expect(!choice.ok && choice.why).toBe("no adapter 2: Dawn lists 2 Vulkan adapters (0 'NVIDIA GeForce RTX 4090', 1 'NVIDIA RTX A6000')");
  });

  it('refuses the second of two identical GPUs (Dawn selects by name only)', () => {
    const twins = parseDawnAdapterList(dawnRejection);
    expect(chooseAdapter(twins, 0, true).ok).toBe(true);
    expect(chooseAdapter(twins, 2, true).ok).toBe(true);
    const second = chooseAdapter(twins, 1, true);
    expect(!second.ok && second.why).toMatch(/adapter 1 .* cannot be told apart from adapter 0 .*by name only.*--gpus device=1.*--gpu 0/);
  });

  it('refuses an adapter whose name is contained in an earlier one (the name match is a substring match)', () => {
    const nested = parseDawnAdapterList("Available adapters:\n * backend: 'vulkan', name: 'NVIDIA A100-SXM4-80GB'\n * backend: 'vulkan', name: 'NVIDIA A100'");
    expect(chooseAdapter(nested, 1, true).ok).toBe(false);
  });

  it('refuses a software rasteriser only when a GPU is required', () => {
    const soft = parseDawnAdapterList("Available adapters:\n * backend: 'opengles', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'");
    const refused = chooseAdapter(soft, 0, true);
    expect(!refused.ok && refused.why).toMatch(/software rasteriser on the CPU, not a GPU/);
    expect(chooseAdapter(soft, 0, false).ok).toBe(true);
  });
});

describe('Dawn backends and limits', () => {
  it('tries Vulkan, then OpenGL ES in compatibility mode, unless DAWNNODE_BACKEND names one', () => {
    expect(dawnBackendOrder({})).toEqual(['vulkan', 'opengles']);
    expect(dawnBackendOrder({ DAWNNODE_BACKEND: 'GLES' })).toEqual(['opengles']);
    expect(dawnBackendOrder({ DAWNNODE_BACKEND: 'vulkan' })).toEqual(['vulkan']);
    expect(featureLevelFor('opengles')).toBe('compatibility');
    expect(featureLevelFor('vulkan')).toBe('core');
  });

  it('recognises software adapters by name or by the fallback flag', () => {
    expect(isSoftwareAdapter('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareAdapter('Intel(R) UHD Graphics 630 (CFL GT2)')).toBe(false);
    expect(isSoftwareAdapter('SwiftShader Device (Subzero)')).toBe(true);
    expect(isSoftwareAdapter('whatever', true)).toBe(true);
  });

  it("asks for the adapter's maximum of the limits tfjs raises, and nothing it lacks", () => {
    expect(requiredLimitsFrom({ maxBufferSize: 2 ** 31, maxStorageBuffersPerShaderStage: 16, maxComputeWorkgroupSizeX: 1024 })).toEqual({
      maxBufferSize: 2 ** 31,
      maxStorageBuffersPerShaderStage: 16,
      maxComputeWorkgroupSizeX: 1024,
    });
  });
});
