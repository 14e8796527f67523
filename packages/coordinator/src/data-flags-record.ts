/** runs/<name>/data.json: how a run read its data, so --resume reads it the same way without the flags again. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileNamed } from '@gradsync/core/node';

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

/** A run's saved data flags; none for a run from before this file (it resumes from the flags given). */
export function readDataFlags(runDir: string): DataFlags {
  try {
    const saved = JSON.parse(readFileSync(path.join(runDir, FILE), 'utf8')) as Record<string, unknown>;
    const out: DataFlags = {};
    for (const key of DATA_FLAGS) if (typeof saved[key] === 'string') out[key] = saved[key];
    return out;
  } catch {
    return {};
  }
}
