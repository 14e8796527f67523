import path from 'node:path';
import { Command, Option, type OptionValues } from 'commander';
import { GradsyncError } from '@gradsync/core';
import { type LogLevel, logLine, QUIET_FLAGS, QUIET_HELP } from '@gradsync/core/node';
import { addServerSecurityOptions, allowListFrom, allowOption, serverSecurityFrom } from '@gradsync/cluster';
import {
  ALLREDUCE_CHOICES,
  WIRE_DTYPE_CHOICES,
  completeOlderConfig,
  intOption,
  positiveNumberOption,
  SEED_RECIPE,
  SPLIT_CHOICES,
  validateRunConfig,
  type RunConfig,
} from '@gradsync/train';
import { addDataReadOptions, addRecipeOptions, dataReadOptionsFrom, recipeFromOptions } from '@gradsync/train/node';
import { type LaunchOptions, readRunConfig } from './launch';
import { resumeCommand } from './resume-command';
import { DATA_FLAGS, dataFlagsOf, readDataFlags } from './data-flags-record';

function portOption(v: string): number {
  const n = intOption('--port', 0)(v);
  if (n > 65535) throw new GradsyncError('E_FLAG', `--port must be an integer from 0 to 65535, got "${v}"`);
  return n;
}

/** --token, else $GRADSYNC_TOKEN; an empty one is refused rather than taken for "no token". */
export function runToken(flag: string | undefined): string | undefined {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new GradsyncError('E_FLAG', '--token must not be empty (leave it out to run without a token on loopback)');
    return flag;
  }
  const env = process.env.GRADSYNC_TOKEN;
  return env === undefined || env === '' ? undefined : env;
}

/** The flags `pnpm coordinator` and `pnpm start` share. */
export function addRunOptions(program: Command): Command {
  return addServerSecurityOptions(addDataReadOptions(addRecipeOptions(program)))
    .option('--host <addr>', 'address to listen on (anything but loopback needs --token)', '127.0.0.1')
    .option('--port <n>', 'port for workers and the dashboard (0 = any free port)', portOption, 7070)
    .addOption(new Option('--allreduce <kind>', 'gradient all-reduce').choices(ALLREDUCE_CHOICES).default('auto'))
    .addOption(
      new Option('--wire-dtype <type>', 'what gradients cross the ring as: float32, or 16 bits each (bf16, fp16) summed in float32')
        .choices(WIRE_DTYPE_CHOICES)
        .default(SEED_RECIPE.wireDtype),
    )
    .option(
      '--bucket-kib <n>',
      'KiB per ring all-reduce bucket: each starts as soon as the backward pass has its gradients (workers with --overlap on)',
      positiveNumberOption('--bucket-kib'),
      SEED_RECIPE.bucketKib,
    )
    .addOption(
      new Option(
        '--split <how>',
        "each worker's share of every global batch: in proportion to its measured speed, or equal (the batch, and so the result, is the same)",
      )
        .choices(SPLIT_CHOICES)
        .default(SEED_RECIPE.split),
    )
    .option('--hash-every <n>', 'compare replica weight hashes every N steps', intOption('--hash-every', 1), SEED_RECIPE.hashEvery)
    .option('--resume <runDir>', 'continue runs/<name> from its newest valid checkpoint')
    .option('--token <secret>', 'shared secret workers must present (default: $GRADSYNC_TOKEN)')
    .addOption(allowOption('workers and dashboards'))
    .option('--min-workers <n>', 'pause training (not fail) while fewer workers remain', intOption('--min-workers', 1), 1)
    .option('--max-workers <n>', 'refuse workers beyond this many', intOption('--max-workers', 1), 1024)
    .option('--browser-workers', 'let a browser tab join as a worker: the dashboard shows "Join this run" (to whoever may view it, with the run\'s --token)')
    .option('--heartbeat-timeout <s>', 'declare a silent worker gone after this many seconds', positiveNumberOption('--heartbeat-timeout'), 10)
    .option(QUIET_FLAGS, QUIET_HELP)
    .option(
      '--max-nonfinite <n>',
      'stop after this many steps in a row with NaN/Inf gradients',
      intOption('--max-nonfinite', 1),
      SEED_RECIPE.maxNonFiniteSteps,
    );
}

/** Builds the validated run configuration and launch options from parsed flags. */
export function launchOptionsFrom(
  program: Command,
  workers: number,
  log: LaunchOptions['log'],
  argv: readonly string[] = process.argv.slice(2),
): LaunchOptions {
  const flags = program.opts();
  // A resumed run reads its data as it first did: its saved data flags, under any given again.
  const given = (option: string) => ['cli', 'env'].includes(program.getOptionValueSource(option) ?? '');
  const o: OptionValues = flags.resume
    ? { ...flags, ...readDataFlags(flags.resume), ...Object.fromEntries(DATA_FLAGS.filter(given).map((k) => [k, flags[k]])) }
    : flags;
  let config: RunConfig;
  if (o.resume) {
    const saved = readRunConfig(o.resume);
    // Only the length of the run and the split (which leaves the result alone) may change on
    // resume; everything else is the run's own. A run from before --split was split equally.
    const epochs = given('epochs') ? o.epochs : saved.epochs;
    const split = given('split') ? o.split : (saved.split ?? 'equal');
    const older = completeOlderConfig(saved);
    const wireDtype = given('wireDtype') ? o.wireDtype : older.wireDtype;
    const bucketKib = given('bucketKib') ? o.bucketKib : older.bucketKib;
    config = validateRunConfig({ ...older, epochs, split, wireDtype, bucketKib, runName: path.basename(path.resolve(o.resume)) });
  } else {
    config = recipeFromOptions(o, {
      allreduce: o.allreduce,
      wireDtype: o.wireDtype,
      bucketKib: o.bucketKib,
      split: o.split,
      hashEvery: o.hashEvery,
      maxNonFiniteSteps: o.maxNonfinite,
    });
  }
  return {
    config,
    host: o.host,
    port: o.port,
    workers,
    minWorkers: o.minWorkers,
    maxWorkers: o.maxWorkers,
    heartbeatTimeoutMs: o.heartbeatTimeout * 1000,
    browserWorkers: Boolean(o.browserWorkers),
    runsDir: o.runsDir,
    dataDir: o.dataDir,
    cacheDir: o.cacheDir,
    dataRead: dataReadOptionsFrom(o),
    dataFlags: dataFlagsOf(o),
    token: runToken(o.token),
    allow: allowListFrom(program),
    ...serverSecurityFrom(program),
    resumeDir: o.resume,
    resumeCommand: resumeCommand(program.name(), argv, o.resume ?? path.join(o.runsDir, config.runName)),
    log,
  };
}

export function coordinatorLog(level: LogLevel, line: string): void {
  logLine(level, line);
}
