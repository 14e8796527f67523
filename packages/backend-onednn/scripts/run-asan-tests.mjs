#!/usr/bin/env node
// Runs the addon's tests against its AddressSanitizer build (build/asan, made by
// `node scripts/build-addon.mjs --asan`): libasan is preloaded into Node, and any heap overflow,
// use after free or similar in the native code aborts the run with ASan's report.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(packageDir, 'build', 'asan', 'gradsync_onednn.node');
if (!existsSync(addon)) {
  console.error(`no AddressSanitizer build at ${addon}: run node scripts/build-addon.mjs --asan first`);
  process.exit(1);
}
const libasan = execFileSync(process.env.CXX || 'g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
const env = {
  ...process.env,
  GRADSYNC_ONEDNN_ADDON: addon,
  LD_PRELOAD: libasan,
  // Node itself does not free everything at exit; leaks are not what this run looks for.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
};
const vitest = join(packageDir, '..', '..', 'node_modules', '.bin', 'vitest');
const result = spawnSync(vitest, ['run', 'src/native.test.ts', 'src/kernels.test.ts', '--pool=forks'], { cwd: packageDir, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
