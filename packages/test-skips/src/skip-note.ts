import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/**
 * A test suite that did not run, and why. Test files call noteSkip where they decide to skip;
 * `pnpm test` (run-tests.ts) gathers the notes of every package's vitest process and prints them
 * at the end, so a machine missing Chromium, Mesa or oneDNN cannot end green in silence.
 */
export interface SkipNote {
  /** The suite, as a reader finds it: e.g. 'dashboard in a browser (test/dashboard.browser.test.ts)'. */
  suite: string;
  /** Why it did not run here. */
  why: string;
  /** Debian packages that would let it run. */
  apt?: string[];
  /** A command to run after those are installed (e.g. building a native addon). */
  then?: string;
  /** Set for suites that run only when asked: how to ask (e.g. 'GRADSYNC_BUNDLE_TEST=1'). Not missing software. */
  optIn?: string;
}

/** Where `pnpm test` collects the notes; test processes see it through turbo (turbo.json passes it through). */
export const SKIP_LOG_ENV = 'GRADSYNC_SKIP_LOG';

/** Records a skipped suite: a line on stderr now, and one in $GRADSYNC_SKIP_LOG for the summary when set. */
export function noteSkip(note: SkipNote, env: NodeJS.ProcessEnv = process.env): void {
  process.stderr.write(`skipped: ${note.suite}: ${note.optIn ? `opt-in (${note.optIn})` : note.why}\n`);
  const log = env[SKIP_LOG_ENV];
  // One short line per append: whole lines even with several processes appending.
  if (log) appendFileSync(log, `${JSON.stringify(note)}\n`);
}

/** The notes in a skip log; none if it was never written. */
export function readSkipLog(file: string): SkipNote[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SkipNote);
}
