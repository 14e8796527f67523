#!/usr/bin/env node
// `gradsync <command> [flags]` (`pnpm exec gradsync …` in this repository). The CLIs are
// TypeScript: this plain-JS entry picks the command's file and runs it in a node with tsx's loader
// (passed on to the workers `start` spawns through process.execArgv).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Each command's file, found through its package's exports (no path into another package).
const COMMANDS = {
  start: [
    '@gradsync/coordinator/cli/start',
    "a coordinator and local workers in one command; with --join, only this node's workers for a coordinator elsewhere",
  ],
  coordinator: ['@gradsync/coordinator/cli/coordinator', 'a coordinator alone; workers join it from anywhere'],
  worker: ['@gradsync/worker/cli/worker', 'one training worker (flags or GRADSYNC_* variables)'],
  launch: ['@gradsync/coordinator/cli/launch-job', 'one task of a SLURM or Kubernetes job: task 0 runs the coordinator, every task a worker'],
  dashboard: ['@gradsync/coordinator/cli/dashboard', "serve a run's metrics to the web dashboard"],
  train: ['@gradsync/standalone/cli/train', 'train in one process, no coordinator'],
  predict: ['@gradsync/standalone/cli/predict', 'classify images with an exported model'],
  evaluate: ['@gradsync/standalone/cli/evaluate', "an exported model's accuracy on the test set"],
  bench: ['@gradsync/bench/cli/bench', 'compute, all-reduce and end-to-end training benchmarks'],
  'bench-compute': ['@gradsync/bench/cli/bench-compute', 'train and predict img/s of each backend'],
  profile: ['@gradsync/tools/cli/profile-step', 'per-op profile of one training step'],
  'make-synthetic': ['@gradsync/tools/cli/make-synthetic', 'write a synthetic CIFAR-10-shaped data set'],
  'bundle-gpu-check': ['@gradsync/tools/cli/bundle-gpu-check', 'write a folder that checks the webgpu backend on a GPU machine'],
};

function usage() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, [, what]]) => `  ${name.padEnd(width)}  ${what}`);
  return `usage: gradsync <command> [flags]   (gradsync <command> --help for its flags; gradsync --version)\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...args] = process.argv.slice(2);
if (name === '--version' || name === '-V') {
  // The version every command prints with --version (core's GRADSYNC_VERSION reads this file).
  const core = fileURLToPath(new URL('../package.json', import.meta.resolve('@gradsync/core')));
  process.stdout.write(`gradsync ${JSON.parse(readFileSync(core, 'utf8')).version}\n`);
  process.exit(0);
}
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  (name === undefined ? process.stderr : process.stdout).write(usage());
  process.exit(name === undefined ? 1 : 0);
}
if (!Object.hasOwn(COMMANDS, name)) {
  process.stderr.write(`error: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
  process.exit(1);
}

const script = fileURLToPath(import.meta.resolve(COMMANDS[name][0]));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], { stdio: 'inherit' });
// A scheduler stops a job by signalling this process; Ctrl-C already reaches the child through
// the terminal's process group, so SIGINT is not passed on (the child would see it twice).
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => {});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
