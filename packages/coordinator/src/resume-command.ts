import path from 'node:path';
import { quote } from 'shell-quote';

/** Flags that pick the run folder: --resume replaces them. */
const RUN_FOLDER_FLAGS = ['--run-name', '--runs-dir', '--resume'];

/**
 * The command that continues this run: the one the user typed (`cli` and its arguments, so the
 * data folder, port, workers and token source stay as they were), with the run-folder flags
 * replaced by `--resume <runDir>`. On resume the recipe flags are ignored (the run's config.json
 * wins, bar --epochs), so they may stay.
 */
export function resumeCommand(cli: string, args: readonly string[], runDir: string): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (RUN_FOLDER_FLAGS.includes(arg)) {
      i++; // and its value
      continue;
    }
    if (RUN_FOLDER_FLAGS.some((f) => arg.startsWith(`${f}=`))) continue;
    kept.push(arg);
  }
  return `${cli} ${quote([...kept, '--resume', path.resolve(runDir)])}`;
}
