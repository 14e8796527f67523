import * as tf from '@tensorflow/tfjs-core';

import type { ProcessUsage } from './session/session-ports';

export type { ProcessUsage };

/** CPU time used over a wall-clock interval, as % of one core; 0 for an empty interval. */
export function cpuPercent(cpuMicros: NodeJS.CpuUsage, wallMs: number): number {
  if (!(wallMs > 0)) return 0;
  return (cpuMicros.user + cpuMicros.system) / 10 / wallMs;
}

/** GPU tensor memory where the backend counts it (webgpu, webgl); undefined on CPU backends. */
export function backendGpuBytes(): number | undefined {
  const bytes = (tf.memory() as { numBytesInGPU?: unknown }).numBytesInGPU;
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0 ? Math.round(bytes) : undefined;
}

/**
 * Samples the process at each step report, so each figure covers the interval since the previous
 * report (a step plus the wait before it): cheap (two syscalls) and aligned with the step record.
 */
export class ProcessUsageSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor(private readonly gpuBytes: () => number | undefined = backendGpuBytes) {}

  sample(): ProcessUsage {
    const now = performance.now();
    const usage: ProcessUsage = { cpuPercent: cpuPercent(process.cpuUsage(this.lastCpu), now - this.lastAt), rssBytes: process.memoryUsage.rss() };
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const gpu = this.gpuBytes();
    if (gpu !== undefined) usage.gpuBytes = gpu;
    return usage;
  }
}
