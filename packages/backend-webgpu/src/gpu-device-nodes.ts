import { readdirSync } from 'node:fs';

/**
 * Whether a Linux machine has a GPU at all, from its device nodes: NVIDIA's /dev/nvidia0..N, a
 * DRM render node /dev/dri/renderD* (AMD, Intel, NVIDIA with the DRM driver), or WSL2's /dev/dxg.
 *
 * Why: `--backend auto --gpu N` accepts only a real GPU, yet asking Dawn for adapters on a machine
 * without one makes it bring up Mesa's llvmpipe, and its OpenGL ES backend then writes
 * "Warning: max...BuffersPerPipelineLayout artificially reduced ..." straight to fd 2 from C++,
 * which Node cannot silence. Reading two folders costs well under a millisecond; loading Dawn and
 * listing adapters costs ~160 ms here (measured) and the noise.
 */

/** The GPU device nodes among the names in /dev and /dev/dri, as paths. */
export function gpuDeviceNodes(dev: readonly string[], dri: readonly string[]): string[] {
  return [
    ...dev.filter((n) => /^nvidia\d+$/.test(n) || n === 'dxg').map((n) => `/dev/${n}`),
    ...dri.filter((n) => /^renderD\d+$/.test(n)).map((n) => `/dev/dri/${n}`),
  ];
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** This machine's GPU device nodes (Linux; elsewhere the question does not apply: null). */
export function localGpuDeviceNodes(): string[] | null {
  if (process.platform !== 'linux') return null;
  return gpuDeviceNodes(list('/dev'), list('/dev/dri'));
}

export const GPU_DEVICE_NODES = '/dev/nvidia*, /dev/dri/renderD*, /dev/dxg';
