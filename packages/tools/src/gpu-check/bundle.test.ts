import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import { BUNDLE_LIMIT_BYTES, bundleGpuCheck } from './bundle';
import { runScript } from './run-script';

describe('run.sh', () => {
  it('is valid POSIX sh', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradsync-run-sh-')), 'run.sh');
    fs.writeFileSync(file, runScript({ nodeVersion: 'v20.0.0' }));
    const check = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});

// Writes the whole folder (xz of the Node binary: about a minute) and runs it from a copy outside the
// repository with an empty environment, on whatever WebGPU adapter is there (llvmpipe without a
// GPU). Opt-in, being slow: GRADSYNC_BUNDLE_TEST=1.
if (!process.env.GRADSYNC_BUNDLE_TEST) {
  noteSkip({ suite: 'the GPU check folder (packages/tools/src/gpu-check/bundle.test.ts)', why: 'opt-in, slow', optIn: 'GRADSYNC_BUNDLE_TEST=1' });
}
describe.skipIf(!process.env.GRADSYNC_BUNDLE_TEST)('the GPU check folder (GRADSYNC_BUNDLE_TEST=1)', () => {
  it('holds plain files under 64 MiB and runs on a machine with no Node packages', { timeout: 600_000 }, async () => {
    const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradsync-gpu-check-')), 'gpu-check');
    const report = await bundleGpuCheck({ outDir, xzLevel: 1 });
    expect(report.totalBytes).toBeLessThan(BUNDLE_LIMIT_BYTES);
    expect(report.files.map((f) => f.path).sort()).toEqual(
      expect.arrayContaining(['run.sh', 'node.xz', 'gpu-check.mjs', 'node_modules/webgpu/dist/linux-x64/dawn.node', 'wasm/tfjs-backend-wasm-simd.wasm']),
    );
    const run = spawnSync('./run.sh', ['--batches', '2', '--reps', '1', '--warmup', '0', '--kernel-batch', '1'], {
      cwd: outDir,
      env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir() },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^TensorFlow\.js backend webgpu on /m);
    expect(run.stdout.match(/^ {2}ok {3}/gm)).toHaveLength(5);
    expect(run.stdout).toMatch(/^ +2 +\d+\.\d +\d+\.\d$/m);
    fs.rmSync(path.dirname(outDir), { recursive: true, force: true });
  });
});
