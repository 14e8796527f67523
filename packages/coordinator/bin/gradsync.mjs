#!/usr/bin/env node
// `gradsync <command> [flags]` (`pnpm exec gradsync …` in this repository). The CLIs are
// TypeScript: this plain-JS entry picks the command's file and runs it in a node with tsx's loader
// (passed on to the workers `start` spawns through process.execArgv).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COMMANDS = {
  start: ['../src/cli/start.ts', 'a coordinator and local workers in one command; with --join, only this node\'s workers for a coordinator elsewhere'],
  coordinator: ['../src/cli/coordinator.ts', 'a coordinator alone; workers join it from anywhere'],
  worker: ['../../worker/src/cli/worker.ts', 'one training worker (flags or GRADSYNC_* variables)'],
  dashboard: ['../src/cli/dashboard.ts', "serve a run's metrics to the web dashboard"],
  train: ['../../worker/src/cli/train.ts', 'train in one process, no coordinator'],
  predict: ['../../worker/src/cli/predict.ts', 'classify images with an exported model'],
  bench: ['../../worker/src/cli/bench.ts', 'compute, all-reduce and end-to-end training benchmarks'],
  'bench-compute': ['../../worker/src/cli/bench-compute.ts', 'train and predict img/s of each backend'],
  profile: ['../../core/src/backend/profile-step.ts', 'per-op profile of one training step'],
  'make-synthetic': ['../../core/src/cli/make-synthetic.ts', 'write a synthetic CIFAR-10-shaped data set'],
  'bundle-gpu-check': ['../../core/src/cli/bundle-gpu-check.ts', 'write a folder that checks the webgpu backend on a GPU machine'],
};

function usage() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, [, what]]) => `  ${name.padEnd(width)}  ${what}`);
  return `usage: gradsync <command> [flags]   (gradsync <command> --help for its flags)\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  (name === undefined ? process.stderr : process.stdout).write(usage());
  process.exit(name === undefined ? 1 : 0);
}
if (!Object.hasOwn(COMMANDS, name)) {
  process.stderr.write(`error: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
  process.exit(1);
}

const script = fileURLToPath(new URL(COMMANDS[name][0], import.meta.url));
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
