import os from 'node:os';
import { Command } from 'commander';
import { runCli } from '@gradsync/core';
import { selectBackend } from '@gradsync/core/backend';
import { intOption } from '@gradsync/core/config';
import { benchCompute, type ComputeBenchResult } from '../compute-bench';

await runCli(async () => {
  const program = new Command('pnpm bench:compute')
    .description('Median train and predict img/s of the model per backend that loads, after warm-up.')
    .option('--json', 'print JSON instead of a table')
    .option('--model <name>', 'model', 'seed-cnn')
    .option('--batch-size <n>', 'batch size', intOption('--batch-size', 1), 64)
    .option('--reps <n>', 'timed steps per backend', intOption('--reps', 1), 15)
    .option('--warmup <n>', 'untimed steps first', intOption('--warmup', 0), 3)
    .option('--backends <list>', 'comma-separated backends to try', 'tensorflow-gpu,tensorflow,wasm,cpu')
    .option('--quick', 'a smoke run: 1 warm-up and 2 timed steps each');
  program.parse();
  const o = program.opts();
  const reps = o.quick ? 2 : o.reps;
  const warmup = o.quick ? 1 : o.warmup;
  const results: ComputeBenchResult[] = [];
  const skipped: { backend: string; why: string }[] = [];
  for (const backend of (o.backends as string).split(',').map((b) => b.trim())) {
    try {
      const sel = await selectBackend({ backend: backend as never, gpu: backend === 'tensorflow-gpu' ? 0 : undefined });
      // The pure-JS cpu backend runs ~0.4 img/s: a couple of small steps tell that much.
      const slow = backend === 'cpu';
      process.stderr.write(`benchmarking ${sel.name} (${sel.device})...\n`);
      results.push(await benchCompute({ model: o.model, batchSize: slow ? Math.min(8, o.batchSize) : o.batchSize, warmup: slow ? 0 : warmup, reps: slow ? 1 : reps, backend: sel.name, device: sel.device }));
    } catch (err) {
      skipped.push({ backend, why: (err as Error).message.split('\n')[0] });
    }
  }
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.arch()}` };
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ machine, model: o.model, batchSize: o.batchSize, results, skipped }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}\n`);
  process.stdout.write(`model ${o.model}, batch ${o.batchSize}, median of ${reps} steps after ${warmup} warm-up\n\n`);
  process.stdout.write(`${'backend'.padEnd(12)}${'device'.padEnd(34)}${'train img/s'.padStart(12)}${'predict img/s'.padStart(15)}\n`);
  for (const r of results) {
    process.stdout.write(`${r.backend.padEnd(12)}${r.device.slice(0, 33).padEnd(34)}${r.trainImagesPerSec.toFixed(1).padStart(12)}${r.predictImagesPerSec.toFixed(1).padStart(15)}${r.batchSize !== o.batchSize ? `  (batch ${r.batchSize})` : ''}\n`);
  }
  for (const s of skipped) process.stdout.write(`${s.backend.padEnd(12)}not loaded: ${s.why}\n`);
});
