import { readFileSync } from 'node:fs';
import { Command } from 'commander';

/** gradsync's version: the core package's (all packages are versioned together). */
export const GRADSYNC_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * A command-line program with gradsync's conventions: `--version`, and parse errors thrown (not
 * printed and exited) so that runCli prints one `error:` line and exits 2, the usage-error status
 * of argparse and the BSD sysexits convention; runtime errors exit 1.
 */
export function gradsyncProgram(name: string): Command {
  return new Command(name)
    .version(`gradsync ${GRADSYNC_VERSION}`, '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ outputError: () => {} });
}
