import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSkipLog, SKIP_LOG_ENV } from './skip-note';
import { formatSkipSummary } from './summary';

/**
 * `pnpm test`: runs the command after `--` (turbo, over every package) with $GRADSYNC_SKIP_LOG
 * set, then prints which suites noted a skip and how to install what they need. Exits with the
 * command's status: skips never turn a run red, they only stop being silent.
 */
const dashes = process.argv.indexOf('--');
const command = dashes >= 0 ? process.argv.slice(dashes + 1) : [];
if (command.length === 0) {
  process.stderr.write('usage: tsx packages/test-skips/src/run-tests.ts -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-skips-'));
const log = path.join(dir, 'skips.jsonl');
const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, [SKIP_LOG_ENV]: log } });
child.on('error', (err) => {
  process.stderr.write(`error: cannot run ${command[0]}: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  const summary = formatSkipSummary(readSkipLog(log));
  rmSync(dir, { recursive: true, force: true });
  if (summary) process.stdout.write(`\n${summary}\n`);
  process.exit(code ?? (signal ? 1 : 0));
});
