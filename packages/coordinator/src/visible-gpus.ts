import { execFileSync } from 'node:child_process';
import { visibleGpuCount } from '@gradsync/cluster';

/** NVIDIA GPUs installed here (nvidia-smi ignores CUDA_VISIBLE_DEVICES); 0 without the driver. */
function installedGpus(): number {
  try {
    return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .split('\n')
      .filter((l) => l.startsWith('GPU ')).length;
  } catch {
    return 0;
  }
}

/** GPUs this process may give its workers: a scheduler's CUDA_VISIBLE_DEVICES list counts, not the machine's. */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env): number {
  return visibleGpuCount(env.CUDA_VISIBLE_DEVICES, installedGpus());
}
