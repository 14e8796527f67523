/** A backend that cannot run here; the message says why (one line). */
export class BackendUnavailable extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'BackendUnavailable';
  }
}

/** An error's first non-empty line: loaders' messages run to stack-like detail after it. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (
    message
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? message
  );
}
