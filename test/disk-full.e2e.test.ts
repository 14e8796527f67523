import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '@gradsync/metrics';
import { noteSkip } from '@gradsync/test-skips';
import { loadLatestCheckpoint } from '@gradsync/coordinator';
import { fillUp, mountTmpfs } from '@gradsync/testing';
import { START_CLI, startCliStreaming, syntheticDataDir } from './helpers/runs';

// A real run whose runs folder is a small tmpfs that fills up after the first checkpoint: the
// run must stop with a message naming the file, the newest good checkpoint and the exact command
// that continues it, leave nothing half-written, and that command must resume the run.
const disk = mountTmpfs(32 * 1024 * 1024);
if (!disk.ok) noteSkip({ suite: 'a run on a full disk (test/disk-full.e2e.test.ts)', why: disk.why });
afterAll(() => disk.ok && disk.unmount());

describe.skipIf(!disk.ok)('a run whose disk fills up', () => {
  it('stops naming the file, the newest good checkpoint and the --resume command; resuming with that command works', async () => {
    const runsDir = disk.ok ? disk.dir : '';
    const dataDir = await syntheticDataDir(192, 32, 5);
    const runDir = path.join(runsDir, 'full');
    const run = startCliStreaming(START_CLI, [
      '--workers',
      '2',
      '--data-dir',
      dataDir,
      '--validation',
      '64',
      '--limit-train',
      '128',
      '--model',
      'tiny-cnn',
      '--epochs',
      '20',
      '--port',
      '0',
      '--runs-dir',
      runsDir,
      '--run-name',
      'full',
    ]);
    await run.waitForLine(/checkpoint written: .*checkpoints\/00000002/, 180_000);
    fillUp(runsDir);
    const { code } = await run.exited;
    const out = run.output();
    expect(code, out.slice(-3000)).not.toBe(0);

    const m =
      /\nerror: cannot write (\S+): no space left on device \(ENOSPC\)\. Nothing is half-written; the newest good checkpoint is (\S+) \(after epoch (\d+) of 20, step (\d+)\)\. Free space on the disk holding (\S+), then continue the run with: (.+)\n/.exec(
        out,
      );
    expect(m, out.slice(-3000)).not.toBeNull();
    const [, file, checkpointDir, epoch, step, heldBy, command] = m!;
    expect(file!.startsWith(`${runDir}/`)).toBe(true);
    expect(heldBy).toBe(runDir);
    expect(out).not.toMatch(/\n\s+at /);
    // The workers are told the same.
    expect(out).toMatch(/\[worker \d\] [\d-]+ [\d:]+ coordinator: run failed: cannot write \S+: no space left on device \(ENOSPC\)\. Nothing is half-written/);

    // Nothing half-written: the named checkpoint is the newest that verifies, no temporary folder
    // is left, and metrics.jsonl has no torn line.
    const newest = await loadLatestCheckpoint(runDir, (l) => expect.fail(l));
    expect(newest?.dir).toBe(checkpointDir);
    expect(newest?.meta).toMatchObject({ nextEpoch: Number(epoch), step: Number(step) });
    expect(readdirSync(path.join(runDir, 'checkpoints')).every((n) => /^\d{8}$/.test(n))).toBe(true);
    expect(readJsonl(path.join(runDir, 'metrics.jsonl')).badLines).toEqual([]);
    expect(existsSync(path.join(runDir, 'model'))).toBe(false);

    // The exact command, run as given (paths here have no spaces: a plain split is the shell's).
    expect(command).toBe(
      `pnpm start --workers 2 --data-dir ${dataDir} --validation 64 --limit-train 128 --model tiny-cnn --epochs 20 --port 0 --resume ${runDir}`,
    );
    rmSync(path.join(runsDir, 'filler'));
    const resumed = startCliStreaming(START_CLI, command!.split(' ').slice(2));
    try {
      await resumed.waitForLine(new RegExp(`resuming ${runDir} from ${checkpointDir} \\(epoch ${Number(epoch) + 1}, step ${step}\\)`), 120_000);
      await resumed.waitForLine(/group 1: 2 worker\(s\)/, 120_000);
    } finally {
      await resumed.stop();
    }
  }, 400_000);
});
