/** Argument vectors that run one of the project's TypeScript CLIs in a child Node process via tsx. */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `process.execPath` arguments for the CLI at `cliUrl` (a file URL, e.g. `new URL('../cli/x.ts', import.meta.url)`). */
export function tsxCliArgs(cliUrl: URL, args: readonly string[]): string[] {
  return ['--import', tsxLoader, fileURLToPath(cliUrl), ...args];
}
