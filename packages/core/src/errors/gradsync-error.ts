/**
 * Errors a user can act on: a stable code plus a message that names the problem.
 * CLIs print `message` (never the stack) and exit non-zero.
 */
export class GradsyncError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GradsyncError';
    this.code = code;
  }
}

export function isGradsyncError(err: unknown): err is GradsyncError {
  return err instanceof GradsyncError;
}

/** Runs a CLI main function: a GradsyncError prints one line and exits 1; anything else prints its stack. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (isGradsyncError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
    } else {
      process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
    // Give stderr a moment, then make sure no open handle keeps a failed CLI alive.
    setTimeout(() => process.exit(1), 50).unref();
  }
}
