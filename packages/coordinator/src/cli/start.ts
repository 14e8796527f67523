import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { gradsyncProgram, runCli, setQuiet } from '@gradsync/core/node';
import { backendRequests, nodeBackendHost } from '@gradsync/backends';
import { intOption } from '@gradsync/train';
import { ensureDashboardBuilt } from '@gradsync/dashboard/node';
import { launchCoordinator } from '../launch';
import { quickRunData, quickRunOverrides, quickRunPreset } from '../quick-run';
import { addJoinOptions, joinCoordinator, refusePeerFlagsWithoutJoin } from '../join-workers';
import { planLocalWorkers } from '../local-workers';
import { visibleGpus } from '../visible-gpus';
import { WORKER_CLI } from '../worker-processes';
import { addRunOptions, coordinatorLog, launchOptionsFrom } from '../run-options';

/**
 * CPU workers when --workers is not given. With onednn one worker on every core beats two
 * one-thread workers (measured on 2 cores: 585 against 467 img/s end to end, seed-cnn, batch 64):
 * the batch is not split and no gradient travels. wasm runs one thread a process, so two workers.
 */
/** --worker-backend: one backend, or a comma-separated list, one per worker (the last for the rest). */
function backendListOption(v: string): string[] {
  const list = v.split(',').map((b) => b.trim());
  const bad = list.find((b) => !(backendRequests as readonly string[]).includes(b));
  if (bad !== undefined)
    throw new GradsyncError('E_FLAG', `--worker-backend takes ${backendRequests.join(', ')} or a comma-separated list of them, got "${v}"`);
  return list;
}

/** The run folder as `pnpm dashboard` takes it from here: relative when it is below this folder. */
function runFolderArgument(runDir: string): string {
  const relative = path.relative(process.cwd(), runDir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : runDir;
}

function defaultCpuWorkers(backend: string): number {
  const onednn = (backend === 'auto' || backend === 'onednn') && nodeBackendHost.loadOneDnn().ok;
  return onednn ? 1 : 2;
}

await runCli(async () => {
  const program = addJoinOptions(
    addRunOptions(
      gradsyncProgram('pnpm start')
        .description('Single-node mode: a coordinator and local worker processes in one command (or, with --join, local workers for a coordinator elsewhere).')
        .option(
          '--workers <n>',
          'local worker processes (default: one per visible GPU; else one CPU worker on every core with the onednn backend, measured faster here than two workers of one thread each; 2 CPU workers without it)',
          intOption('--workers', 1),
        )
        .option(
          '--worker-backend <name>',
          `backend for the workers (${backendRequests.join(', ')}); a comma-separated list gives worker i the i-th (the last for the rest), e.g. onednn,wasm for workers of different speeds`,
          backendListOption,
          ['auto'],
        )
        .option('--threads <n>', 'CPU threads of each local worker for the onednn backend (default: cores / workers, at least 1)', intOption('--threads', 1))
        .option('--keep-dashboard', 'when the run ends, keep its dashboard up until Ctrl-C (the workers stop as usual)')
        .option(
          '--quick',
          'a first run of a few minutes: 2 workers, 3 epochs on 10,000 CIFAR-10 training images (synthetic images when CIFAR-10 cannot be had); flags you give win',
        ),
    ),
  );
  program.parse();
  if (program.opts().quick) {
    const overrides = quickRunOverrides(quickRunPreset(), (option) => program.getOptionValueSource(option) === 'cli');
    for (const [option, value] of Object.entries(overrides)) program.setOptionValue(option, value);
  }
  const o = program.opts();
  setQuiet(Boolean(o.quiet));
  const gpus = visibleGpus();
  const backends: string[] = o.workerBackend;
  const workers: number = o.workers ?? (gpus > 0 ? gpus : backends.length > 1 ? backends.length : defaultCpuWorkers(backends[0]));
  if (o.join !== undefined) return joinCoordinator(program, { workers, gpus, log: coordinatorLog });
  refusePeerFlagsWithoutJoin(program);
  const launch = { ...launchOptionsFrom(program, workers, coordinatorLog), keepDashboard: Boolean(o.keepDashboard) };
  if (o.quick) {
    const quick = await quickRunData({ dataDir: launch.dataDir, cacheDir: launch.cacheDir, log: coordinatorLog });
    launch.dataDir = quick.dataDir;
    coordinatorLog(
      'notice',
      `quick run ${launch.config.runName}: ${workers} workers, ${launch.config.epochs} epochs on ${(launch.config.limitTrain ?? 0).toLocaleString('en-US')} ${quick.synthetic ? 'synthetic' : 'CIFAR-10'} training images, BatchNorm momentum ${launch.config.bnMomentum} (the full recipe: \`pnpm start\` without --quick)`,
    );
  }
  const page = await ensureDashboardBuilt((line) => coordinatorLog('info', line));
  const launched = await launchCoordinator(launch);
  if (page.ok) coordinatorLog('notice', `dashboard: ${launched.dashboardUrl}`);
  else coordinatorLog('warn', `no dashboard page: ${page.why}. Training goes on; its metrics are in ${launched.runDir}/metrics.jsonl`);
  const plan = planLocalWorkers({ workers, gpus, workerUrl: launched.workerUrl, backend: backends, threads: o.threads });
  coordinatorLog(
    'info',
    `starting ${workers} local worker(s) (${gpus > 0 ? `${gpus} GPU(s) visible` : 'no GPU visible: CPU workers'}; ` +
      `backend ${backends.join(',')}, ${plan.threads} CPU thread(s) each for onednn: ${plan.threadsWhy})`,
  );

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopChildren = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  for (let i = 0; i < workers; i++) {
    const child = spawn(process.execPath, [...process.execArgv, WORKER_CLI, ...plan.args[i], ...(o.quiet ? ['--quiet'] : [])], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, GRADSYNC_TOKEN: launch.token ?? '', ...(launch.tls ? { GRADSYNC_TLS_FINGERPRINT: launch.tls.fingerprint, GRADSYNC_CA: '' } : {}) },
    });
    // Prefix each worker's lines so interleaved output stays readable.
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) process.stderr.write(`[worker ${i}] ${line}\n`);
    });
    child.on('exit', (code, signal) => {
      if (!stopping && code !== 0) coordinatorLog('warn', `worker ${i} exited with ${signal ?? `code ${code}`}`);
    });
    children.push(child);
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    coordinatorLog('warn', `${signal}: stopping the workers and the coordinator`);
    stopChildren('SIGTERM');
    void launched.close().finally(() => setTimeout(() => process.exit(130), 300));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const waitForChildren = () =>
    Promise.race([
      Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))))),
      new Promise((r) => setTimeout(r, 10_000)),
    ]).then(() => stopChildren('SIGKILL'));
  try {
    const end = await launched.done;
    await waitForChildren();
    const again = `to look at it again: pnpm dashboard ${runFolderArgument(launched.runDir)}`;
    const result = `run ${end.status} in ${end.wallSec.toFixed(1)} s; test accuracy ${end.test ? end.test.accuracy.toFixed(4) : 'n/a'}; run folder ${launched.runDir}`;
    if (!launch.keepDashboard) {
      coordinatorLog('notice', `${result}; ${again}`);
      return;
    }
    coordinatorLog('notice', `${result}; the dashboard stays up at ${launched.dashboardUrl} until Ctrl-C`);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await launched.close();
    coordinatorLog('notice', `dashboard stopped; ${again}`);
  } catch (err) {
    stopping = true;
    stopChildren('SIGTERM');
    await waitForChildren();
    throw err;
  }
});
