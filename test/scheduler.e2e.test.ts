/**
 * `gradsync launch` as a cluster engine starts it: one process per task, each with exactly the
 * environment SLURM's srun gives a task on one node (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
 * SLURM_JOB_NODELIST, SLURM_JOB_ID, SLURM_RESTART_COUNT), set here by hand. A SIGTERM to every
 * task, as scancel or a time limit sends, stops the run; the requeued job resumes by itself.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  epochs,
  expectTrainedTogether,
  freePort,
  readMetrics,
  ROOT,
  startCliStreaming,
  type StreamingProcess,
  syntheticDataDir,
  tempDir,
} from './helpers/runs';

const LAUNCH_CLI = path.join(ROOT, 'packages/coordinator/src/cli/launch-job.ts');

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

let dataDir: string;
beforeAll(async () => {
  dataDir = await syntheticDataDir(384, 64);
});

describe('gradsync launch under SLURM', () => {
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

  it('SIGTERM to every process of the job checkpoints at the step in flight and stops; the requeued job resumes there with the same weights', async () => {
    const runsDir = tempDir('slurm-requeue');
    const args = ['--data-dir', dataDir, '--runs-dir', runsDir, '--port', String(await freePort())];
    const common = [...args, '--model', 'tiny-cnn', '--epochs', '4', '--lr', '0.005', '--validation', '64', '--split', 'equal'];
    const first = startJob({ jobId: '78', tasks: 2, args: common });
    let checkpointHash: string;
    let stoppedAt: number;
    try {
      checkpointHash = (await first[0]!.waitForLine(/checkpoint written: \S+ \(weights ([0-9a-f]+)\)/, 240_000))[1]!;
      // As scancel or a time limit: every process of every task (each task's process group).
      for (const t of first) process.kill(-t.child.pid!, 'SIGTERM');
      const exits = await Promise.all(first.map((t) => t.exited));
      expect(exits.map((e) => e.code)).toEqual([143, 143]);
      stoppedAt = Number((await first[0]!.waitForLine(/SIGTERM: checkpoint written at step (\d+), /, 1_000))[1]);
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
      expect(Number(/resuming \S+job-78 from \S+ \(epoch \d, step (\d+)\)/.exec(log)?.[1])).toBe(stoppedAt!);
      // The checkpoint written at the SIGTERM is the one it resumes from: the same weights.
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

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

describe('the Kubernetes example (examples/kubernetes/train-job.yaml)', () => {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'examples/kubernetes/train-job.yaml'), 'utf8')).map((d) => d.toJS());
  const service = docs.find((d) => d.kind === 'Service');
  const job = docs.find((d) => d.kind === 'Job');

  it('is valid YAML of the right kinds: a headless Service and an Indexed Job whose pods it names', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 Service', 'batch/v1 Job']);
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual({ 'job-name': job.metadata.name });
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.parallelism).toBe(job.spec.completions);
    const pod = job.spec.template.spec;
    expect(pod.subdomain).toBe(service.metadata.name);
    const env = pod.containers[0].env as EnvVar[];
    expect(env.find((e) => e.name === 'GRADSYNC_WORLD_SIZE')?.value).toBe(String(job.spec.completions));
    expect(env.find((e) => e.name === 'GRADSYNC_COORDINATOR_HOST')?.value).toBe(`${job.metadata.name}-0.${service.metadata.name}`);
  });

  it('its pods, run with the environment it gives them, train together', async () => {
    const container = job.spec.template.spec.containers[0] as { command: string[]; env: EnvVar[] };
    const runsDir = tempDir('k8s-runs');
    const port = String(await freePort());
    // The command after `gradsync launch`, with the pod's paths mapped to this test's folders.
    const args = container.command
      .slice(container.command.indexOf('launch') + 1)
      .map((a) => (a === '/data' ? dataDir : a === '/runs' ? runsDir : a === '7070' ? port : a));
    // A secret's value is made up here; the pod IP (fieldRef status.podIP) is this machine's loopback.
    const podEnv = Object.fromEntries(
      container.env.map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef ? '127.0.0.1' : 'secret-from-the-manifests-secret')]),
    );
    // The one change: pod 0's DNS name (train-0.train) exists only inside a cluster.
    podEnv.GRADSYNC_COORDINATOR_HOST = '127.0.0.1';
    const pods = Array.from({ length: job.spec.completions as number }, (_, index) =>
      startCliStreaming(LAUNCH_CLI, [...args, '--model', 'tiny-cnn', '--epochs', '1', '--hash-every', '1', '--validation', '64'], {
        env: { ...podEnv, JOB_COMPLETION_INDEX: String(index) },
      }),
    );
    try {
      const exits = await Promise.all(pods.map((p) => p.exited));
      expect(
        exits.map((e) => e.code),
        pods[0]!.output().slice(-3000),
      ).toEqual([0, 0, 0]);
      expect(pods[0]!.output()).toMatch(/kubernetes job train, task 0 of 3: the coordinator, for 3 worker\(s\)/);
      const records = readMetrics(path.join(runsDir, 'job-train'));
      expect(epochs(records)).toHaveLength(1);
      for (const s of records.filter((r) => r.kind === 'step' && r.hashes)) expect(new Set((s as { hashes: string[] }).hashes).size).toBe(1);
    } finally {
      await Promise.all(pods.map((p) => p.stop()));
    }
  }, 300_000);
});
