import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { type MetricRecord, readJsonl, type RunSummary, summarizeRun } from '@gradsync/metrics';
import { resolveMetricsFile } from './jsonl-tail';

export type DashboardTarget = { kind: 'run'; file: string } | { kind: 'runs'; dir: string; names: string[] };

/**
 * What `pnpm dashboard <target>` serves: one run (a run folder or its metrics.jsonl) or, for a
 * folder of run folders such as runs/, all of them in the compare view.
 */
export function resolveDashboardTarget(target: string): DashboardTarget {
  const isDir = (() => {
    try {
      return statSync(target).isDirectory();
    } catch {
      return false;
    }
  })();
  if (isDir && !isFile(path.join(target, 'metrics.jsonl'))) {
    const names = listRunNames(target);
    if (names.length > 0) return { kind: 'runs', dir: target, names };
    throw new GradsyncError(
      'E_NO_METRICS',
      `${target} has no metrics.jsonl and no run folders holding one (give a run folder such as runs/<name>, or a folder of runs such as runs/ to compare them)`,
    );
  }
  return { kind: 'run', file: resolveMetricsFile(target) };
}

/** The run folders directly inside `dir`: those holding a metrics.jsonl, by name. */
export function listRunNames(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && isFile(path.join(dir, e.name, 'metrics.jsonl')))
    .map((e) => e.name)
    .sort();
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

interface CachedRun {
  mtimeMs: number;
  size: number;
  records: MetricRecord[];
  summary: RunSummary;
}

/**
 * A folder of runs (runs/) for the compare view. Each run's metrics.jsonl is read again only
 * when it changed (size or mtime), so a page reload shows runs still in progress.
 */
export class RunsFolder {
  private readonly cache = new Map<string, CachedRun>();

  constructor(readonly dir: string) {}

  names(): string[] {
    return listRunNames(this.dir);
  }

  summaries(): RunSummary[] {
    return this.names().flatMap((name) => {
      const run = this.load(name);
      return run ? [run.summary] : [];
    });
  }

  /** A run's records, or null when `name` is not one of the folder's runs (never a path outside it). */
  records(name: string): MetricRecord[] | null {
    if (!this.names().includes(name)) return null;
    return this.load(name)?.records ?? null;
  }

  private load(name: string): CachedRun | null {
    const file = path.join(this.dir, name, 'metrics.jsonl');
    let stat;
    try {
      stat = statSync(file);
    } catch {
      this.cache.delete(name);
      return null;
    }
    const cached = this.cache.get(name);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    // Corrupt lines (a torn last line of a run in progress) are skipped, as `pnpm dashboard <run>` does.
    const { records } = readJsonl(file);
    const run = { mtimeMs: stat.mtimeMs, size: stat.size, records, summary: summarizeRun(name, records) };
    this.cache.set(name, run);
    return run;
  }
}
