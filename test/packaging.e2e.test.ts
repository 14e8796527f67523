import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GRADSYNC_BIN as GRADSYNC, ROOT, tempDir } from './helpers/runs';

// The `gradsync` bin as pnpm links it (node_modules/.bin/gradsync), run as a real process, and the
// packages' exports checked against the files on disk.

async function gradsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(GRADSYNC, args, { cwd: tempDir('bin-cwd'), timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the gradsync bin', () => {
  it('lists its commands; an unknown one is an error naming it', async () => {
    const help = await gradsync(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['start', 'coordinator', 'worker', 'train', 'make-synthetic']) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const bad = await gradsync(['trian']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: unknown command "trian"; commands: start, coordinator, worker/);
  });

  it('answers --version and -V itself, with the version every command prints', async () => {
    const command = await gradsync(['start', '--version']);
    expect(command.code, command.stderr).toBe(0);
    expect(command.stdout).toMatch(/^gradsync \d+\.\d+\.\d+\n$/);
    for (const flag of ['--version', '-V']) {
      const r = await gradsync([flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(command.stdout);
    }
  });

  it('runs a TypeScript CLI from any folder with its flags passed through', async () => {
    const out = tempDir('bin-synthetic');
    const r = await gradsync(['make-synthetic', '--out', out, '--train', '5', '--test', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'batches.meta.txt',
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    const failed = await gradsync(['worker', '--peer-port', '99999']);
    expect(failed.code).toBe(2); // a usage error
    expect(failed.stderr.trim()).toMatch(/^error: --peer-port must be a port or a range FIRST-LAST .*got "99999": out of range$/);
  });
});

describe('package exports', () => {
  it("every package's exports name files that exist", () => {
    const packages = readdirSync(path.join(ROOT, 'packages'));
    let checked = 0;
    for (const name of packages) {
      const dir = path.join(ROOT, 'packages', name);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, string>; bin?: Record<string, string> };
      for (const [entry, target] of Object.entries({ ...manifest.exports, ...manifest.bin })) {
        if (target.includes('*')) continue; // a pattern: the subpaths it matches are imported across the repository
        expect(existsSync(path.join(dir, target)), `${name} ${entry} -> ${target}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });
});
