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
