/**
 * PyTorch's gloo all-reduce as the anchor of the all-reduce benchmark, measured in the same run
 * on the same machine (gloo_allreduce.py, timed as bench-process.ts times gradsync). Needs a
 * Python with torch and gloo: Debian's python3-torch (/usr/bin/python3) is tried first, then
 * `python3` on the PATH; without one the benchmark says so and goes on without the anchor.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GradsyncError } from '@gradsync/core';

const SCRIPT = fileURLToPath(new URL('./gloo_allreduce.py', import.meta.url));

export interface GlooTiming {
  bytes: number;
  world: number;
  medianMs: number;
  cpuMsPerOp: number;
  minorFaultsPerOp: number;
  verified: boolean;
}

/** A Python that imports torch with gloo, or null. */
export function findTorchPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import torch.distributed as d; assert d.is_gloo_available()'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

/** Runs gloo's all-reduce over `world` processes at each size; one timing per size. */
export function benchGloo(python: string, options: { world: number; sizes: number[]; warmup: number; repeats: number; gapMs: number }): GlooTiming[] {
  const args = [
    SCRIPT,
    '--world',
    String(options.world),
    '--sizes',
    options.sizes.join(','),
    '--warmup',
    String(options.warmup),
    '--repeats',
    String(options.repeats),
    '--gap-ms',
    String(options.gapMs),
  ];
  const run = spawnSync(python, args, { encoding: 'utf8', timeout: 900_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) {
    throw new GradsyncError(
      'E_BENCH',
      `gloo benchmark (${python} ${args.slice(1).join(' ')}) failed: ${(run.stderr || run.error?.message || '').slice(-2000)}`,
    );
  }
  return run.stdout
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as GlooTiming);
}
