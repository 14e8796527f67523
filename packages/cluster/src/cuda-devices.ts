/**
 * --gpu N under a scheduler. SLURM, Kubernetes' device plugin and others hand a process its GPUs
 * by setting CUDA_VISIBLE_DEVICES (e.g. "2,5" or GPU UUIDs). The rule: when it is set, --gpu N is
 * the N-th entry of that list (counting from 0), and the process narrows CUDA_VISIBLE_DEVICES to
 * that one entry; it never indexes all GPUs of the machine, and a launcher passes the scheduler's
 * list unchanged to its children. When it is not set, --gpu N is physical GPU N.
 */
import { GradsyncError } from '@gradsync/core';

/** The entries of CUDA_VISIBLE_DEVICES; undefined when unset (all GPUs visible). */
export function cudaVisibleList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** The value CUDA_VISIBLE_DEVICES must take for --gpu `gpu`, given its current value. */
export function cudaVisibleDevicesFor(gpu: number, current: string | undefined): string {
  const list = cudaVisibleList(current);
  if (list === undefined) return String(gpu);
  if (gpu >= list.length) {
    throw new GradsyncError(
      'E_GPU',
      list.length === 0
        ? `--gpu ${gpu}: CUDA_VISIBLE_DEVICES is set but empty, so no GPU is visible to this process`
        : `--gpu ${gpu}: CUDA_VISIBLE_DEVICES=${current} makes only ${list.length} GPU(s) visible (--gpu 0 to ${list.length - 1}; --gpu counts within that list)`,
    );
  }
  return list[gpu];
}

/** GPUs this process may use: the CUDA_VISIBLE_DEVICES list when set (at most what is installed), else all installed. */
export function visibleGpuCount(current: string | undefined, installed: number): number {
  const list = cudaVisibleList(current);
  return list === undefined ? installed : Math.min(list.length, installed);
}
