import path from 'node:path';
import { writeFileNamed } from '@gradsync/core/node';
import type { RunConfig } from './run-config';

export const RUN_CONFIG_FILE = 'config.json';

/** Writes the whole resolved configuration (preset and flags applied) to runs/<name>/config.json. */
export async function writeRunConfigFile(runDir: string, config: RunConfig): Promise<string> {
  const file = path.join(runDir, RUN_CONFIG_FILE);
  await writeFileNamed(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}
