import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { gpuDeviceNodes, localGpuDeviceNodes } from './gpu-device-nodes';

describe('gpuDeviceNodes', () => {
  it('picks NVIDIA devices, DRM render nodes and WSL2 dxg; not control nodes, cards or the NVIDIA helpers', () => {
    const dev = ['null', 'nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm', 'nvidia-modeset', 'dxg', 'tty0', 'dri'];
    const dri = ['card0', 'renderD128', 'by-path'];
    expect(gpuDeviceNodes(dev, dri)).toEqual(['/dev/nvidia0', '/dev/nvidia1', '/dev/dxg', '/dev/dri/renderD128']);
  });

  it('a machine without any: none', () => {
    expect(gpuDeviceNodes(['null', 'zero', 'nvidiactl'], [])).toEqual([]);
  });

  it("this machine's answer lists only nodes that exist", () => {
    const nodes = localGpuDeviceNodes();
    if (process.platform !== 'linux') return expect(nodes).toBeNull();
    for (const n of nodes!) expect(existsSync(n)).toBe(true);
  });
});
