import { copyFileSync, mkdirSync, readdirSync, statSync, truncateSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticCifar10, writeCifar10Binary } from '@gradsync/data';
import { COORDINATOR_CLI, type ProcessResult, ROOT, runCli, START_CLI, syntheticDataDir, tempDir, WORKER_CLI } from './helpers/runs';

const PROFILE_CLI = path.join(ROOT, 'packages/tools/src/cli/profile-step.ts');
const EVALUATE_CLI = path.join(ROOT, 'packages/standalone/src/cli/evaluate.ts');

// Bad input on the command line: every case is one line of error on stderr (no stack trace)
// and a non-zero exit. The cases run as real processes, a few at a time.
interface Case {
  name: string;
  cli: string;
  args: () => string[];
  error: RegExp;
  /** 2 for a usage error (the command line is wrong), 1 for a failure while running. */
  exit: 1 | 2;
  /** Most seconds the process may take (start-up included). */
  within?: number;
}

let runsDir: string;
let goodData: string;
let emptyDir: string;
let truncatedBin: string;
let truncatedGz: string;
let silent: net.Server;
let silentPort: number;
let closedPort: number;

const listen = (server: net.Server) => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));

beforeAll(async () => {
  runsDir = tempDir('cli-runs');
  goodData = await syntheticDataDir(100, 20, 1);
  emptyDir = tempDir('no-cifar');
  // A copy of the good set with one training file cut mid-record.
  truncatedBin = tempDir('truncated-bin');
  for (const f of readdirSync(goodData)) copyFileSync(path.join(goodData, f), path.join(truncatedBin, f));
  truncateSync(path.join(truncatedBin, 'data_batch_3.bin'), 5000);
  // A gzipped set whose test file stops halfway.
  truncatedGz = tempDir('truncated-gz');
  mkdirSync(truncatedGz, { recursive: true });
  await writeCifar10Binary(truncatedGz, makeSyntheticCifar10({ train: 100, test: 20, seed: 2 }), { gzip: true });
  const gz = path.join(truncatedGz, 'test_batch.bin.gz');
  truncateSync(gz, Math.floor(statSync(gz).size / 2));
  // A "coordinator" that accepts TCP connections and never answers the WebSocket handshake.
  silent = net.createServer(() => {});
  silentPort = await listen(silent);
  const probe = net.createServer();
  closedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
});

afterAll(() => {
  silent?.close();
});

const coordinatorArgs =
  (...extra: string[]) =>
  () => ['--port', '0', '--runs-dir', runsDir, ...extra];

const CASES: Case[] = [
  { name: 'coordinator: unknown flag', cli: COORDINATOR_CLI, args: () => ['--bogus'], error: /^error: unknown option '--bogus'/, exit: 2 },
  { name: 'worker: unknown flag', cli: WORKER_CLI, args: () => ['--bogus'], error: /^error: unknown option '--bogus'/, exit: 2 },
  { name: 'coordinator: --epochs 0', cli: COORDINATOR_CLI, args: () => ['--epochs', '0'], error: /^error: --epochs must be an integer ≥ 1, got "0"$/, exit: 2 },
  { name: 'coordinator: --lr -1', cli: COORDINATOR_CLI, args: () => ['--lr', '-1'], error: /^error: --lr must be a positive number, got "-1"$/, exit: 2 },
  {
    name: 'coordinator: --batch-size x',
    cli: COORDINATOR_CLI,
    args: () => ['--batch-size', 'x'],
    error: /^error: --batch-size must be an integer ≥ 1, got "x"$/,
    exit: 2,
  },
  {
    name: 'coordinator: --port 99999',
    cli: COORDINATOR_CLI,
    args: () => ['--port', '99999'],
    error: /^error: --port must be an integer from 0 to 65535, got "99999"$/,
    exit: 2,
  },
  { name: 'worker: --threads 0', cli: WORKER_CLI, args: () => ['--threads', '0'], error: /^error: --threads must be an integer ≥ 1, got "0"$/, exit: 2 },
  { name: 'worker: --threads abc', cli: WORKER_CLI, args: () => ['--threads', 'abc'], error: /^error: --threads must be an integer ≥ 1, got "abc"$/, exit: 2 },
  { name: 'start: --threads 0', cli: START_CLI, args: () => ['--threads', '0'], error: /^error: --threads must be an integer ≥ 1, got "0"$/, exit: 2 },
  { name: 'start: --threads abc', cli: START_CLI, args: () => ['--threads', 'abc'], error: /^error: --threads must be an integer ≥ 1, got "abc"$/, exit: 2 },
  {
    name: 'start: --validation abc',
    cli: START_CLI,
    args: () => ['--validation', 'abc'],
    error: /^error: --validation must be an integer ≥ 0 or "auto", got "abc"$/,
    exit: 2,
  },
  { name: 'profile: --batch abc', cli: PROFILE_CLI, args: () => ['--batch', 'abc'], error: /^error: --batch must be an integer ≥ 1, got "abc"$/, exit: 2 },
  {
    name: 'profile: --model vgg',
    cli: PROFILE_CLI,
    args: () => ['--model', 'vgg'],
    error: /^error: option '--model <name>' argument 'vgg' is invalid/,
    exit: 2,
  },
  { name: 'evaluate: no --model', cli: EVALUATE_CLI, args: () => [], error: /^error: required option '--model <dir>' not specified$/, exit: 2 },
  {
    name: 'evaluate: --limit 0',
    cli: EVALUATE_CLI,
    args: () => ['--model', emptyDir, '--limit', '0'],
    error: /^error: --limit must be an integer ≥ 1, got "0"$/,
    exit: 2,
  },
  {
    name: 'evaluate: an unknown --views level',
    cli: EVALUATE_CLI,
    args: () => ['--model', emptyDir, '--views', 'flip', 'crops'],
    error: /^error: option '--views <which...>' argument 'crops' is invalid\. Allowed choices are one, flip, flip-translate\.$/,
    exit: 2,
  },
  {
    name: 'evaluate: a folder without a model',
    cli: EVALUATE_CLI,
    args: () => ['--model', emptyDir, '--data-dir', goodData],
    error: /^error: model file .*model\.json is not found; pass the folder a training run exported \(runs\/<name>\/model\) or a model\.json$/,
    exit: 1,
  },
  { name: 'profile: unknown flag', cli: PROFILE_CLI, args: () => ['--bogus'], error: /^error: unknown option '--bogus'/, exit: 2 },
  { name: 'worker: --gpu 0 --cpu', cli: WORKER_CLI, args: () => ['--gpu', '0', '--cpu'], error: /^error: --gpu and --cpu contradict each other/, exit: 2 },
  { name: 'coordinator: empty --token', cli: COORDINATOR_CLI, args: () => ['--token', ''], error: /^error: --token must not be empty/, exit: 2 },
  {
    name: 'coordinator: data dir without CIFAR-10',
    cli: COORDINATOR_CLI,
    args: () => coordinatorArgs('--data-dir', emptyDir)(),
    error: /^error: CIFAR-10 files missing in .*: data_batch_1\.bin/,
    exit: 1,
  },
  {
    name: 'coordinator: truncated data file',
    cli: COORDINATOR_CLI,
    args: () => coordinatorArgs('--data-dir', truncatedBin)(),
    error: /^error: .*data_batch_3\.bin: size 5000 bytes is not a whole number of 3073-byte CIFAR-10 records.*truncated/,
    exit: 1,
  },
  {
    name: 'coordinator: truncated .bin.gz',
    cli: COORDINATOR_CLI,
    args: () => coordinatorArgs('--data-dir', truncatedGz)(),
    error: /^error: .*test_batch\.bin\.gz: truncated or corrupt gzip file/,
    exit: 1,
  },
  {
    name: 'worker: nothing listening at --coordinator (--connect-timeout 2)',
    cli: WORKER_CLI,
    args: () => ['--coordinator', `ws://127.0.0.1:${closedPort}`, '--cpu', '--connect-timeout', '2'],
    error: /^error: cannot reach the coordinator at ws:\/\/127\.0\.0\.1:\d+\/worker \(connect ECONNREFUSED .*\); is it running/,
    exit: 1,
    within: 30,
  },
  {
    name: 'worker: a host that accepts and never answers (--connect-timeout 2)',
    cli: WORKER_CLI,
    args: () => ['--coordinator', `ws://127.0.0.1:${silentPort}`, '--cpu', '--connect-timeout', '2'],
    error: /^error: cannot reach the coordinator at ws:\/\/127\.0\.0\.1:\d+\/worker \(Opening handshake has timed out\)/,
    exit: 1,
    within: 30,
  },
];

async function runAll(cases: Case[], parallel: number): Promise<Map<Case, ProcessResult & { seconds: number }>> {
  const results = new Map<Case, ProcessResult & { seconds: number }>();
  const queue = [...cases];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const t0 = performance.now();
        const r = await runCli(c.cli, c.args(), { timeoutMs: 50_000, env: { GRADSYNC_TOKEN: '' } });
        results.set(c, { ...r, seconds: (performance.now() - t0) / 1000 });
      }
    }),
  );
  return results;
}

describe('bad command-line input', () => {
  let results: Map<Case, ProcessResult & { seconds: number }>;

  beforeAll(async () => {
    results = await runAll(CASES, 4);
  }, 120_000);

  it.each(CASES.map((c) => [c.name, c] as const))('%s: one line of error, no stack trace, exit 2 for usage, 1 for a failure', (_name, c) => {
    const r = results.get(c)!;
    const context = `exit ${r.code ?? r.signal}, stderr:\n${r.stderr}`;
    expect(r.signal, context).toBeNull(); // it exited by itself, not killed at the timeout
    expect(r.code, context).toBe(c.exit);
    const errorLines = r.stderr.split('\n').filter((l) => /^(error|internal error):/.test(l));
    expect(errorLines, context).toHaveLength(1);
    expect(errorLines[0], context).toMatch(c.error);
    // The error is the last thing said, and nothing below it is a stack trace.
    expect(r.stderr.trimEnd().split('\n').at(-1), context).toBe(errorLines[0]);
    expect(r.stderr, context).not.toMatch(/^\s{4}at /m);
    expect(r.stdout, context).not.toMatch(/^\s{4}at /m);
    if (c.within) expect(r.seconds, context).toBeLessThan(c.within);
  });
});
