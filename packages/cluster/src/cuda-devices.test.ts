import { describe, expect, it } from 'vitest';
import { cudaVisibleDevicesFor, visibleGpuCount } from './cuda-devices';

describe('cudaVisibleDevicesFor', () => {
  it('without CUDA_VISIBLE_DEVICES, --gpu N is physical GPU N', () => {
    expect(cudaVisibleDevicesFor(0, undefined)).toBe('0');
    expect(cudaVisibleDevicesFor(3, undefined)).toBe('3');
  });

  it("with it, --gpu N is the N-th entry of the scheduler's list (indexes, UUIDs, MIG ids)", () => {
    expect(cudaVisibleDevicesFor(0, '2,5')).toBe('2');
    expect(cudaVisibleDevicesFor(1, '2,5')).toBe('5');
    expect(cudaVisibleDevicesFor(1, 'GPU-aaaa, GPU-bbbb')).toBe('GPU-bbbb');
    expect(cudaVisibleDevicesFor(0, 'MIG-1234')).toBe('MIG-1234');
  });

  it('an index past the list, or an empty list, is an error naming both', () => {
    expect(() => cudaVisibleDevicesFor(2, '2,5')).toThrow(
      '--gpu 2: CUDA_VISIBLE_DEVICES=2,5 makes only 2 GPU(s) visible (--gpu 0 to 1; --gpu counts within that list)',
    );
    expect(() => cudaVisibleDevicesFor(0, '')).toThrow('--gpu 0: CUDA_VISIBLE_DEVICES is set but empty, so no GPU is visible to this process');
  });
});

describe('visibleGpuCount', () => {
  it('counts the list when set, never more than are installed', () => {
    expect(visibleGpuCount(undefined, 8)).toBe(8);
    expect(visibleGpuCount('2,5', 8)).toBe(2);
    expect(visibleGpuCount('', 8)).toBe(0);
    expect(visibleGpuCount('0,1,2', 0)).toBe(0);
  });
});
