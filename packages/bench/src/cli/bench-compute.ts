import { gradsyncProgram, runCli } from '@gradsync/core/node';
import { intOption } from '@gradsync/train';
import { intListOption } from '@gradsync/train/node';
import { benchComputeBackends, COMPUTE_BENCH_BACKENDS, formatComputeTable, machineInfo } from '../compute/compute-bench';

await runCli(async () => {
  const program = gradsyncProgram('pnpm bench:compute')
    .description('Median train and predict img/s of the model per backend that loads, after warm-up.')
    .option('--json', 'print JSON instead of a table')
    .option('--model <name>', 'model', 'seed-cnn')
    .option('--batch-size <n>', 'batch size', intOption('--batch-size', 1), 64)
    .option('--reps <n>', 'timed steps per backend', intOption('--reps', 1), 15)
    .option('--warmup <n>', 'untimed steps first', intOption('--warmup', 0), 3)
    .option('--backends <list>', 'comma-separated backends to try', COMPUTE_BENCH_BACKENDS.join(','))
    .option(
      '--threads <list>',
      'comma-separated CPU thread counts to measure onednn at, once each; other backends are measured once (default: 1 and all cores)',
      intListOption('--threads', 1),
    )
    .option('--quick', 'a smoke run: 1 warm-up and 2 timed steps each');
  program.parse();
  const o = program.opts();
  const reps = o.quick ? 2 : o.reps;
  const warmup = o.quick ? 1 : o.warmup;
  const suite = await benchComputeBackends({
    model: o.model,
    batchSize: o.batchSize,
    warmup,
    reps,
    backends: (o.backends as string).split(',').map((b) => b.trim()),
    threads: o.threads,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const machine = machineInfo();
  if (o.json) {
    const { model, batchSize, results, skipped } = suite;
    process.stdout.write(`${JSON.stringify({ machine, model, batchSize, results, skipped }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}\n`);
  process.stdout.write(`model ${o.model}, batch ${o.batchSize}, median of ${reps} steps after ${warmup} warm-up\n\n`);
  process.stdout.write(`${formatComputeTable(suite)}\n`);
});
