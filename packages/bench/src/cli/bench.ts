/**
 * `pnpm bench`: the figures that show how fast gradsync trains here: compute img/s per backend,
 * all-reduce bandwidth against a raw WebSocket stream, and end-to-end img/s with 1 and 2 workers.
 * A table on screen; with --json the report as JSON on stdout (the table then goes to stderr).
 */
import { readFileSync } from 'node:fs';
import { GradsyncError } from '@gradsync/core';
import { gradsyncProgram, runCli } from '@gradsync/core/node';
import { intOption } from '@gradsync/train';
import { type BenchReport, formatBenchReport } from '../training/bench-report';
import { BENCH_PARTS, type BenchPart, runBench } from '../training/run-bench';

await runCli(async () => {
  const program = gradsyncProgram('pnpm bench')
    .description('Compute, all-reduce and end-to-end training benchmarks: medians over repeated runs after warm-up.')
    .option('--quick', 'a smoke run in well under a minute: tiny sizes, 2 workers, a small synthetic set, 1 repetition')
    .option('--json', 'write the report as JSON to stdout (the table goes to stderr)')
    .option('--parts <list>', `comma-separated parts to run: ${BENCH_PARTS.join(', ')}`, BENCH_PARTS.join(','))
    .option('--epochs <n>', 'epochs of each end-to-end run', intOption('--epochs', 1), 1)
    .option('--format <report.json>', 'print the table of a saved --json report, measuring nothing');
  program.parse();
  const o = program.opts();
  if (o.format) {
    let report: BenchReport;
    try {
      report = JSON.parse(readFileSync(o.format, 'utf8')) as BenchReport;
    } catch (err) {
      throw new GradsyncError('E_BENCH_ARG', `cannot read the report ${o.format}: ${(err as Error).message}`);
    }
    process.stdout.write(`${formatBenchReport(report)}\n`);
    return;
  }
  const parts = (o.parts as string).split(',').map((p) => p.trim());
  for (const p of parts) {
    if (!(BENCH_PARTS as readonly string[]).includes(p)) throw new GradsyncError('E_BENCH_ARG', `unknown part "${p}"; choose from ${BENCH_PARTS.join(', ')}`);
  }
  const report = await runBench({
    quick: Boolean(o.quick),
    parts: parts as BenchPart[],
    epochs: o.epochs,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const table = `${formatBenchReport(report)}\n`;
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`\n${table}`);
  } else {
    process.stdout.write(`\n${table}`);
  }
  // tfjs-wasm keeps no handle open, but a forked benchmark process might: leave promptly.
  setTimeout(() => process.exit(0), 100).unref();
});
