import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(here, '../../../node_modules/.bin/tsx');
const runTests = path.join(here, 'run-tests.ts');
const suite = path.join(here, 'fixtures/skipping-suite.ts');

// A real run: run-tests.ts starts a child process that notes skips through $GRADSYNC_SKIP_LOG,
// then prints the summary after it and passes its exit status on.
function run(exitCode: number) {
  return spawnSync(tsx, [runTests, '--', tsx, suite], { encoding: 'utf8', env: { ...process.env, EXIT_CODE: String(exitCode), GRADSYNC_SKIP_LOG: '' } });
}

describe('run-tests', () => {
  it("prints the child's skips at the end, once each, and exits with the child's status", () => {
    const r = run(0);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('skipped: browser suite: no Chromium');
    const summary = r.stdout.slice(r.stdout.indexOf('1 test suite(s) skipped'));
    expect(summary.split('\n').filter((l) => l.startsWith('  - '))).toEqual(['  - browser suite: no Chromium', '  - bundle suite: set GRADSYNC_BUNDLE_TEST=1']);
    expect(summary).toContain('sudo apt-get install -y chromium');
  });

  it('a failing run stays failing', () => {
    expect(run(3).status).toBe(3);
  });

  it('without a command: says how to call it', () => {
    const r = spawnSync(tsx, [runTests], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: .*run-tests\.ts -- COMMAND/);
  });
});
