import { CommanderError } from 'commander';
import { isGradsyncError } from './gradsync-error';

/** Error codes that mean "the command line is wrong" (exit 2), as opposed to a failure while running (exit 1). */
const USAGE_CODES = new Set(['E_FLAG', 'E_USAGE', 'CLI_USAGE', 'E_CONFIG', 'E_TOKEN_REQUIRED', 'E_BENCH_ARG', 'E_ARGS']);

export type CliOutcome = { exitCode: 0 } | { exitCode: 1 | 2; message: string };

/**
 * What a CLI prints and how it exits for an error thrown by its main function: usage errors exit 2
 * (argparse's and the BSD sysexits convention), failures while running exit 1.
 */
export function cliOutcome(err: unknown): CliOutcome {
  if (err instanceof CommanderError) {
    // --help and --version end parsing with exit code 0: not an error.
    if (err.exitCode === 0) return { exitCode: 0 };
    return { exitCode: 2, message: `error: ${err.message.replace(/^error: /, '')}` };
  }
  if (isGradsyncError(err)) return { exitCode: USAGE_CODES.has(err.code) ? 2 : 1, message: `error: ${err.message}` };
  return { exitCode: 1, message: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` };
}

/** Runs a CLI main function: an error prints one line (a stack only for a bug) and exits 2 or 1 (see cliOutcome). */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    const outcome = cliOutcome(err);
    if (outcome.exitCode === 0) return;
    process.stderr.write(`${outcome.message}\n`);
    process.exitCode = outcome.exitCode;
    // Give stderr a moment, then make sure no open handle keeps a failed CLI alive.
    setTimeout(() => process.exit(outcome.exitCode), 50).unref();
  }
}
