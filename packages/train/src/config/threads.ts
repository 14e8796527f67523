import os from 'node:os';
import { GradsyncError } from '@gradsync/core';

/** Help text of `--threads` on the programs that choose a backend. */
export const THREADS_HELP = 'CPU threads for the onednn backend (default: all cores; pnpm start gives each local worker cores / workers)';

/** The CPU threads each of `processes` processes started side by side on this machine gets: the cores shared out, at least 1. */
export function threadsPerProcess(processes: number, cores: number = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, processes)));
}

/** A commander parser for a comma-separated list of integers ≥ `min` (e.g. `--threads 1,2`), duplicates dropped, order kept. */
export function intListOption(flag: string, min = 1): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((p) => p.trim());
    if (parts.some((p) => !/^-?\d+$/.test(p) || Number(p) < min)) {
      throw new GradsyncError('E_FLAG', `${flag} must be a comma-separated list of integers ≥ ${min}, got "${v}"`);
    }
    return [...new Set(parts.map(Number))];
  };
}
