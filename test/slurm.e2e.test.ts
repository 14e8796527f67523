/**
 * gradsync under a real SLURM (test/helpers/slurm.ts: munged, slurmctld and slurmd as plain
 * processes, one node): sbatch jobs whose srun tasks each run `gradsync launch`. A job of 3 tasks
 * trains to completion; a job cancelled mid-run (scancel's SIGTERM) stops after a checkpoint, and
 * the job submitted again on the same run folder resumes from it with the checkpoint's weights.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import { type Slurm, slurmUnavailable, startSlurm } from './helpers/slurm';
import { epochs, expectTrainedTogether, freePort, GRADSYNC_BIN, readMetrics, syntheticDataDir, tempDir } from './helpers/runs';

const skip = slurmUnavailable();
if (skip) noteSkip({ suite: 'gradsync under a real SLURM (test/slurm.e2e.test.ts)', why: skip, apt: ['slurm-wlm', 'munge'] });

describe.skipIf(skip !== null)('gradsync launch under a real SLURM', () => {
  let slurm: Slurm;
  let dataDir: string;
  let dir: string;
  beforeAll(async () => {
    slurm = await startSlurm({ controller: await freePort(), node: await freePort() });
    dataDir = await syntheticDataDir(384, 64);
    dir = tempDir('slurm-jobs');
  }, 120_000);
  afterAll(() => slurm?.stop());

  /** A batch script whose one srun step runs gradsync launch on every task. */
  function jobScript(name: string, args: string[]): string {
    const file = path.join(dir, `${name}.sh`);
    writeFileSync(file, `#!/bin/bash\nsrun ${GRADSYNC_BIN} launch ${args.join(' ')}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it('a job of 3 tasks: the coordinator on task 0, a worker on every task, trained to completion', async () => {
    const runsDir = path.join(dir, 'runs-whole');
    const args = [
      '--data-dir',
      dataDir,
      '--runs-dir',
      runsDir,
      '--port',
      String(await freePort()),
      '--model',
      'tiny-cnn',
      '--epochs',
      '2',
      '--hash-every',
      '1',
      '--validation',
      '64',
    ];
    const out = path.join(dir, 'whole.out');
    // --overcommit: 3 tasks on this node's 2 CPUs.
    const job = slurm.sbatch(['-n', '3', '--overcommit', '-o', out, jobScript('whole', args)]);
    expect(await slurm.waitForEnd(job, 240_000)).toBe('COMPLETED');
    const log = (await slurm.waitForText(out, /run completed; test accuracy/, 5_000)).input;
    expect(log).toMatch(new RegExp(`slurm job ${job}, task 0 of 3: the coordinator, for 3 worker\\(s\\)`));
    expect(log).toMatch(new RegExp(`slurm job ${job}, task 2 of 3: a worker`));
    const records = readMetrics(path.join(runsDir, `job-${job}`));
    expect(epochs(records)).toHaveLength(2);
    expectTrainedTogether(records, 3, 1);
  }, 300_000);

  it('scancel: the job checkpoints at the step in flight and stops; submitted again on that run folder, it resumes there with the same weights', async () => {
    const runsDir = path.join(dir, 'runs-cut');
    const args = [
      ...['--data-dir', dataDir, '--runs-dir', runsDir, '--run-name', 'cut', '--port', String(await freePort())],
      ...['--model', 'tiny-cnn', '--epochs', '4', '--validation', '64', '--split', 'equal'],
    ];
    const script = jobScript('cut', args);
    const first = path.join(dir, 'cut-1.out');
    const job = slurm.sbatch(['-n', '2', '--overcommit', '-o', first, script]);
    await slurm.waitForText(first, /checkpoint written: \S+ \(weights [0-9a-f]+\)/, 240_000);
    // scancel signals the job's steps with SIGTERM, SIGKILL after KillWait (20 s here).
    expect(spawnSync('scancel', [job], { env: slurm.env }).status).toBe(0);
    expect(await slurm.waitForEnd(job, 60_000)).toBe('CANCELLED');
    const firstLog = (await slurm.waitForText(first, /SIGTERM: checkpoint written at step \d+, /, 10_000)).input;
    const stoppedAt = Number(/SIGTERM: checkpoint written at step (\d+), /.exec(firstLog)![1]);
    const written = [...firstLog.matchAll(/checkpoint written: \S+ \(weights ([0-9a-f]+)\)/g)].map((m) => m[1]);
    expect(written.length).toBeGreaterThan(0);

    const second = path.join(dir, 'cut-2.out');
    const again = slurm.sbatch(['-n', '2', '--overcommit', '-o', second, script]);
    expect(await slurm.waitForEnd(again, 240_000)).toBe('COMPLETED');
    const secondLog = (await slurm.waitForText(second, /run completed/, 5_000)).input;
    expect(Number(/resuming \S+cut from \S+ \(epoch \d, step (\d+)\)/.exec(secondLog)?.[1])).toBe(stoppedAt);
    expect(/resumed weights: ([0-9a-f]+), as checkpointed/.exec(secondLog)?.[1]).toBe(written.at(-1));
    expect(epochs(readMetrics(path.join(runsDir, 'cut'))).at(-1)!.epoch).toBe(3);
  }, 420_000);
});
