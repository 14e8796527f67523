/**
 * Log lines on stderr. Each starts with the local date and time, so that a long run's output can
 * be read after the fact (and matched against metrics.jsonl); `--quiet` drops the info lines.
 * The final `error:` line of a failed command is printed by runCli, without a timestamp, as
 * argparse and commander print theirs.
 */
/** `notice`: an info line that `--quiet` keeps (the addresses to open, the final result). */
export type LogLevel = 'info' | 'notice' | 'warn' | 'error';

let quiet = false;

/** `--quiet`: only warnings and errors from here on (progress bars included). */
export function setQuiet(on: boolean): void {
  quiet = on;
}

/** The `--quiet` flag, defined once. */
export const QUIET_FLAGS = '-q, --quiet';
export const QUIET_HELP = 'print only warnings, errors, the addresses to open and the final result';

export function isQuiet(): boolean {
  return quiet;
}

/** `2026-12-01 23:50:01` in local time. */
export function formatTimestamp(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

export function formatLogLine(level: LogLevel, text: string, at: Date): string {
  const label = level === 'info' || level === 'notice' ? '' : level === 'warn' ? 'warning: ' : 'error: ';
  return `${formatTimestamp(at)} ${label}${text}`;
}

export function logLine(level: LogLevel, text: string): void {
  if (quiet && level === 'info') return;
  process.stderr.write(`${formatLogLine(level, text, new Date())}\n`);
}

/** The `(line) => void` loggers most modules take: info lines. */
export const logInfo = (text: string): void => logLine('info', text);
