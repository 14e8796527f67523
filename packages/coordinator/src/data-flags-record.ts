/** runs/<name>/data.json: how a run read its data, so --resume reads it the same way without the flags again. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { writeFileNamed } from '@gradsync/core/node';
import type { DataReadOptions } from '@gradsync/data';

/** The data flags as commander parses them (their camelCase names), and --data-dir made absolute. */
export const DATA_FLAGS = ['dataDir', 'dataFormat', 'imageSize', 'channels', 'labels', 'testFraction'] as const;
export type DataFlags = Partial<Record<(typeof DATA_FLAGS)[number], string>>;

const FILE = 'data.json';

export function dataFlagsOf(o: Record<string, unknown>): DataFlags {
  const out: DataFlags = {};
  for (const key of DATA_FLAGS) if (o[key] !== undefined) out[key] = key === 'dataDir' ? path.resolve(String(o[key])) : String(o[key]);
  return out;
}

export function writeDataFlags(runDir: string, flags: DataFlags): Promise<void> {
  return writeFileNamed(path.join(runDir, FILE), `${JSON.stringify(flags, null, 2)}\n`);
}

/** Whether a run folder has its data flags (runs from before this file have none). */
export function hasDataFlags(runDir: string): boolean {
  return existsSync(path.join(runDir, FILE));
}

/** A run's saved data flags; none for a run from before this file (it resumes from the flags given). */
export function readDataFlags(runDir: string): DataFlags {
  const file = path.join(runDir, FILE);
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new GradsyncError('E_RUN_DIR', `cannot resume: ${file} is unreadable (${(err as Error).message}); fix or delete it and give the data flags again`);
  }
  const out: DataFlags = {};
  for (const key of DATA_FLAGS) if (typeof saved[key] === 'string') out[key] = saved[key];
  return out;
}

/** The data flags `train()`'s options stand for, so an API run resumes from the command line like any other. */
export function dataFlagsFromRead(dataDir: string, read: DataReadOptions = {}): DataFlags {
  const out: DataFlags = { dataDir: path.resolve(dataDir) };
  if (read.format !== undefined) out.dataFormat = read.format;
  if (read.imageSize !== undefined) out.imageSize = `${read.imageSize.height}x${read.imageSize.width}`;
  if (read.channels !== undefined) out.channels = String(read.channels);
  if (read.labels !== undefined) out.labels = read.labels;
  if (read.testFraction !== undefined) out.testFraction = String(read.testFraction);
  return out;
}
