/**
 * `gradsync launch` as a cluster engine starts it: one process per task, each with exactly the
 * environment SLURM's srun gives a task on one node (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
 * SLURM_JOB_NODELIST, SLURM_JOB_ID, SLURM_RESTART_COUNT), set here by hand. A SIGTERM to every
 * task, as scancel or a time limit sends, stops the run; the requeued job resumes by itself.
 */
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { epochs, expectTrainedTogether, readMetrics, ROOT, startCliStreaming, type StreamingProcess, syntheticDataDir, tempDir } from './helpers/runs';

const LAUNCH_CLI = path.join(ROOT, 'packages/coordinator/src/cli/launch-job.ts');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The tasks of one job, as srun starts them on this node. */
function startJob(o: { jobId: string; tasks: number; args: string[]; restarts?: number }): StreamingProcess[] {
  return Array.from({ length: o.tasks }, (_, rank) =>
    startCliStreaming(LAUNCH_CLI, o.args, {
      env: {
        SLURM_PROCID: String(rank),
        SLURM_NTASKS: String(o.tasks),
        SLURM_LOCALID: String(rank),
        SLURM_JOB_NODELIST: hostname(),
        SLURM_JOB_ID: o.jobId,
        SLURM_RESTART_COUNT: String(o.restarts ?? 0),
        GRADSYNC_TOKEN: '',
      },
    }),
  );
}

describe('gradsync launch under SLURM', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await syntheticDataDir(384, 64);
  });

  it('3 tasks: task 0 runs the coordinator, every task a worker, trained to completion with identical weights', async () => {
    const runsDir = tempDir('slurm-runs');
    const args = ['--data-dir', dataDir, '--runs-dir', runsDir, '--port', String(await freePort())];
    const job = startJob({
      jobId: '77',
      tasks: 3,
      args: [...args, '--model', 'tiny-cnn', '--epochs', '2', '--lr', '0.005', '--hash-every', '1', '--validation', '64'],
    });
    try {
      const exits = await Promise.all(job.map((t) => t.exited));
      expect(
        exits.map((e) => e.code),
        job[0]!.output().slice(-3000),
      ).toEqual([0, 0, 0]);
      expect(job[0]!.output()).toMatch(/slurm job 77, task 0 of 3: the coordinator, for 3 worker\(s\)/);
      expect(job[2]!.output()).toMatch(/slurm job 77, task 2 of 3: a worker for the coordinator at ws:\/\/127\.0\.0\.1:\d+/);
      const records = readMetrics(path.join(runsDir, 'job-77'));
      expect(epochs(records)).toHaveLength(2);
      expectTrainedTogether(records, 3);
    } finally {
      await Promise.all(job.map((t) => t.stop()));
    }
  }, 300_000);

  it('SIGTERM to every task stops the job after a checkpoint; the requeued job resumes from it with the same weights', async () => {
    const runsDir = tempDir('slurm-requeue');
    const args = ['--data-dir', dataDir, '--runs-dir', runsDir, '--port', String(await freePort())];
    const common = [...args, '--model', 'tiny-cnn', '--epochs', '4', '--lr', '0.005', '--validation', '64', '--split', 'equal'];
    const first = startJob({ jobId: '78', tasks: 2, args: common });
    let checkpointHash: string;
    try {
      checkpointHash = (await first[0]!.waitForLine(/checkpoint written: \S+ \(weights ([0-9a-f]+)\)/, 240_000))[1]!;
      for (const t of first) t.child.kill('SIGTERM');
      const exits = await Promise.all(first.map((t) => t.exited));
      expect(exits.every((e) => e.code !== 0)).toBe(true);
      expect(first[0]!.output()).toMatch(/SIGTERM: stopping the run; the job resumes from its last checkpoint/);
    } finally {
      await Promise.all(first.map((t) => t.stop()));
    }
    const requeued = startJob({ jobId: '78', tasks: 2, args: common, restarts: 1 });
    try {
      const exits = await Promise.all(requeued.map((t) => t.exited));
      const log = requeued[0]!.output();
      expect(
        exits.map((e) => e.code),
        log.slice(-3000),
      ).toEqual([0, 0]);
      expect(log).toMatch(/resuming \S+job-78 from \S+ \(epoch \d, step \d+\)/);
      // The newest checkpoint when the job stopped is the one it resumes from: the same weights.
      const resumed = /resumed weights: ([0-9a-f]+), as checkpointed/.exec(log)?.[1];
      const written = [...first[0]!.output().matchAll(/checkpoint written: \S+ \(weights ([0-9a-f]+)\)/g)].map((m) => m[1]);
      expect(written).toContain(checkpointHash);
      expect(resumed).toBe(written.at(-1));
      const records = readMetrics(path.join(runsDir, 'job-78'));
      expect(epochs(records).map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    } finally {
      await Promise.all(requeued.map((t) => t.stop()));
    }
  }, 420_000);
});
