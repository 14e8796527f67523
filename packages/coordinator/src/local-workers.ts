/** What `pnpm start` gives each local worker process it spawns (see cli/start.ts). */
import os from 'node:os';
import { threadsPerProcess } from '@gradsync/train/node';

export interface LocalWorkersOptions {
  /** Local worker processes. */
  workers: number;
  /** GPUs visible here: worker i < gpus trains on GPU i, the rest on the CPU. */
  gpus: number;
  /** ws:// URL of the coordinator. */
  workerUrl: string;
  /** --worker-backend: one for all, or a list: worker i takes entry i (the last one for the rest), e.g. to mix speeds. */
  backend: string | readonly string[];
  /** --threads of `pnpm start`, if given. */
  threads?: number;
  /** Cores shared out when --threads is not given (default: os.availableParallelism()). */
  cores?: number;
}

export interface LocalWorkersPlan {
  /** CPU threads of each worker (the onednn backend uses them; the others ignore --threads). */
  threads: number;
  /** How `threads` was chosen, for the start line. */
  threadsWhy: string;
  /** The worker CLI's arguments, one list per worker. */
  args: string[][];
}

/**
 * The workers' command-line arguments. Each gets `--threads`: the flag's value, else the cores
 * shared out among the workers (at least 1), so that N processes side by side do not each start
 * a thread per core and fight over them.
 */
function backendOf(backend: string | readonly string[], i: number): string {
  return typeof backend === 'string' ? backend : (backend[Math.min(i, backend.length - 1)] ?? 'auto');
}

export function planLocalWorkers(o: LocalWorkersOptions): LocalWorkersPlan {
  const cores = o.cores ?? os.availableParallelism();
  const threads = o.threads ?? threadsPerProcess(o.workers, cores);
  const threadsWhy = o.threads != null ? '--threads' : `${cores} core(s) / ${o.workers} worker(s)`;
  const args = Array.from({ length: o.workers }, (_, i) => [
    '--coordinator',
    o.workerUrl,
    '--backend',
    backendOf(o.backend, i),
    ...(i < o.gpus ? ['--gpu', String(i)] : ['--cpu']),
    '--threads',
    String(threads),
  ]);
  return { threads, threadsWhy, args };
}
