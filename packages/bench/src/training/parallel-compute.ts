/**
 * The ceiling the machine puts on N workers before any communication: N `pnpm bench:compute`
 * processes started together, each timing training steps alone (no sockets). Set beside the
 * end-to-end runs, it separates what the processes cost each other (shared cores, caches,
 * memory bandwidth; smaller per-worker batches) from what gradsync's protocol costs.
 */
import { spawn } from 'node:child_process';
import { GradsyncError } from '@gradsync/core';
import { threadsPerProcess } from '@gradsync/train/node';
import { tsxCliArgs } from './tsx-cli';

const BENCH_COMPUTE_CLI = new URL('../cli/bench-compute.ts', import.meta.url);

export interface ParallelComputeOptions {
  model: string;
  backend: string;
  /** Batch of every process. */
  batchSize: number;
  processes: number;
  /** CPU threads of every process for onednn (default: the cores shared out among the processes). */
  threads?: number;
  warmup: number;
  reps: number;
}

export interface ParallelComputeResult {
  processes: number;
  batchSize: number;
  /** --threads of each process (only onednn uses it); absent in reports from before the flag. */
  threads?: number;
  /** Median train img/s of each process, measured while the others ran. */
  perProcess: number[];
  total: number;
}

function benchComputeProcess(o: ParallelComputeOptions & { threads: number }): Promise<number> {
  const args = [
    '--json',
    '--model',
    o.model,
    '--backends',
    o.backend,
    '--threads',
    String(o.threads),
    '--batch-size',
    String(o.batchSize),
    '--reps',
    String(o.reps),
    '--warmup',
    String(o.warmup),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, tsxCliArgs(BENCH_COMPUTE_CLI, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      let result: { trainImagesPerSec: number } | undefined;
      try {
        result = code === 0 ? (JSON.parse(stdout) as { results: { trainImagesPerSec: number }[] }).results[0] : undefined;
      } catch {
        // Not JSON: reported below with the process's stderr.
      }
      if (!result) {
        reject(
          new GradsyncError(
            'E_BENCH',
            `bench:compute on ${o.backend} (batch ${o.batchSize}) ${code === 0 ? 'measured nothing' : `exited with code ${code}`}: ${stderr}`,
          ),
        );
        return;
      }
      resolve(result.trainImagesPerSec);
    });
  });
}

export async function benchParallelCompute(o: ParallelComputeOptions): Promise<ParallelComputeResult> {
  const threads = o.threads ?? threadsPerProcess(o.processes);
  const perProcess = await Promise.all(Array.from({ length: o.processes }, () => benchComputeProcess({ ...o, threads })));
  return { processes: o.processes, batchSize: o.batchSize, threads, perProcess, total: perProcess.reduce((a, b) => a + b, 0) };
}
