/**
 * `gradsync launch`: one task of a cluster job (SLURM's srun or sbatch, a Kubernetes Indexed
 * Job). Every task runs one worker; task 0 also runs the coordinator. Rank, world size, the
 * coordinator's host, the job id and restarts come from the engine's environment (schedulerTask),
 * so the job script computes nothing. A requeued job (SLURM_RESTART_COUNT > 0), or one whose run
 * folder already holds a checkpoint, resumes from it.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { gradsyncProgram, runCli, setQuiet } from '@gradsync/core/node';
import { schedulerTask } from '@gradsync/cluster';
import { launchCoordinator } from '../launch';
import { planLocalWorkers } from '../local-workers';
import { addRunOptions, coordinatorLog, launchOptionsFrom, runToken } from '../run-options';
import { visibleGpus } from '../visible-gpus';
import { spawnWorkers, type WorkerProcesses } from '../worker-processes';

/** How long a worker stays after the engine's SIGTERM for the checkpoint (SLURM's KillWait is 30 s by default). */
const DRAIN_SECONDS = 25;

function hasCheckpoint(runDir: string): boolean {
  const dir = path.join(runDir, 'checkpoints');
  return existsSync(dir) && readdirSync(dir).some((d) => /^\d+$/.test(d));
}

await runCli(async () => {
  const program = addRunOptions(
    gradsyncProgram('gradsync launch').description(
      "One task of a cluster job (srun/sbatch, a Kubernetes Indexed Job): every task a worker, task 0 also the coordinator; rank, world size and the coordinator's host come from the job's environment.",
    ),
  );
  program.parse();
  const o = program.opts();
  setQuiet(Boolean(o.quiet));
  const task = schedulerTask();
  if (!task) {
    throw new GradsyncError(
      'E_FLAG',
      'gradsync launch runs as a task of a cluster job, and neither SLURM_PROCID/SLURM_NTASKS nor JOB_COMPLETION_INDEX is set; on one machine use gradsync start',
    );
  }
  const given = (option: string) => program.getOptionValueSource(option) === 'cli';
  for (const flag of ['host', 'resume']) {
    if (given(flag)) throw new GradsyncError('E_FLAG', `--${flag} has no effect with launch: the job's environment decides it`);
  }
  // Every task of a one-node job shares this machine: loopback, no token needed. Across nodes, the token travels with the job's environment.
  const oneNode = task.nodes.length === 1;
  const token = runToken(o.token);
  if (!oneNode && !token) {
    throw new GradsyncError(
      'E_TOKEN_REQUIRED',
      `a job across nodes needs a shared secret: export GRADSYNC_TOKEN in the job script before srun (e.g. export GRADSYNC_TOKEN=$(openssl rand -hex 16))`,
    );
  }
  const port: number = o.port;
  if (port === 0) throw new GradsyncError('E_FLAG', '--port 0 cannot work with launch: every task must know the port beforehand');
  const url = `ws://${oneNode ? '127.0.0.1' : task.coordinatorHost}:${port}`;
  const tag = `${task.engine} job ${task.jobId}, task ${task.rank} of ${task.world}`;

  let launched: Awaited<ReturnType<typeof launchCoordinator>> | null = null;
  if (task.rank === 0) {
    const runDir = path.resolve(o.runsDir, o.runName ?? `job-${task.jobId}`);
    if (!given('runName')) program.setOptionValue('runName', path.basename(runDir));
    const resuming = hasCheckpoint(runDir);
    if (resuming) program.setOptionValue('resume', runDir);
    if (task.restarts > 0 && !resuming) coordinatorLog('warn', `${tag}: restart ${task.restarts}, but ${runDir} holds no checkpoint yet: starting over`);
    const options = launchOptionsFrom(program, task.world, coordinatorLog);
    launched = await launchCoordinator({ ...options, host: oneNode ? '127.0.0.1' : '0.0.0.0' });
    coordinatorLog('notice', `${tag}: the coordinator, for ${task.world} worker(s) at ${url}${resuming ? `; resuming ${runDir}` : ''}`);
    coordinatorLog('notice', `dashboard: ${launched.dashboardUrl}`);
  } else {
    coordinatorLog('info', `${tag}: a worker for the coordinator at ${url}`);
  }
  const plan = planLocalWorkers({ workers: 1, gpus: Math.min(1, visibleGpus()), workerUrl: url, backend: 'auto', threads: task.cpusPerTask });
  // The worker stays for the coordinator's checkpoint when the engine's SIGTERM reaches it too.
  const worker: WorkerProcesses = spawnWorkers(plan.args, {
    GRADSYNC_DRAIN_ON_SIGTERM: String(DRAIN_SECONDS),
    ...process.env,
    GRADSYNC_TOKEN: token ?? '',
  });

  // The engine's stop (time limit, scancel, preemption with --signal) reaches every process of the
  // job as SIGTERM: task 0 checkpoints after the step in flight and ends the run (Note [Stop with a
  // checkpoint]); the workers stay for it and then leave. SLURM signals a task both through srun
  // and directly, so a repeated SIGTERM is the same request; a second SIGINT (Ctrl-C) stops at once.
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== null) {
      if (signal === 'SIGTERM') return;
      coordinatorLog('warn', `${signal} again: stopping now`);
      worker.signal('SIGKILL');
      void (launched?.close() ?? Promise.resolve()).finally(() => process.exit(143));
      return;
    }
    signalled = signal;
    if (launched) {
      coordinatorLog('warn', `${signal}: checkpointing after the step in flight, then stopping; the job resumes from there when requeued or submitted again`);
      launched.checkpointAndStop(signal);
    } else if (signal === 'SIGINT') {
      worker.signal('SIGTERM');
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  if (launched) {
    const end = await launched.done;
    await Promise.race([worker.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    worker.signal('SIGKILL');
    coordinatorLog('notice', `run ${end.status}; test accuracy ${end.test ? end.test.accuracy.toFixed(4) : 'n/a'}; run folder ${launched.runDir}`);
    await launched.close();
    if (end.status === 'stopped') process.exitCode = 143;
    return;
  }
  const [exit] = await worker.exited;
  if (exit && exit.code !== 0) throw new GradsyncError('E_WORKER', `this task's worker exited with ${exit.signal ?? `code ${exit.code}`}`);
  if (signalled) process.exitCode = 143;
});
