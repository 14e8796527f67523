/** Worker CLI processes on this machine: started, their stderr prefixed, stopped together. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/** The worker's CLI, found through the worker package's exports. */
export const WORKER_CLI = createRequire(import.meta.url).resolve('@gradsync/worker/cli/worker');

export interface WorkerExit {
  index: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcesses {
  /** Resolves when every worker has exited. */
  exited: Promise<WorkerExit[]>;
  /** Sends `signal` to every worker still running. */
  signal(signal: NodeJS.Signals): void;
}

/**
 * One worker process per argument list, run with this process's node and loader flags (tsx).
 * Each inherits `env` whole (so a scheduler's CUDA_VISIBLE_DEVICES reaches it unchanged).
 */
export function spawnWorkers(argsPerWorker: readonly string[][], env: NodeJS.ProcessEnv): WorkerProcesses {
  const children: ChildProcess[] = [];
  const exits = argsPerWorker.map((args, index) => {
    const child = spawn(process.execPath, [...process.execArgv, WORKER_CLI, ...args], { stdio: ['ignore', 'inherit', 'pipe'], env });
    children.push(child);
    // Prefix each worker's lines so interleaved output stays readable.
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) process.stderr.write(`[worker ${index}] ${line}\n`);
    });
    return new Promise<WorkerExit>((resolve) => {
      child.once('error', () => resolve({ index, code: null, signal: null }));
      child.once('exit', (code, signal) => resolve({ index, code, signal }));
    });
  });
  return {
    exited: Promise.all(exits),
    signal(signal) {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    },
  };
}
