import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSyntheticCifar10, writeCifar10Binary } from '@gradsync/data';
import { expect } from 'vitest';
import type { MetricRecord, StepRecord, EpochRecord, EndRecord } from '@gradsync/metrics';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
export const START_CLI = path.join(ROOT, 'packages/coordinator/src/cli/start.ts');
export const COORDINATOR_CLI = path.join(ROOT, 'packages/coordinator/src/cli/coordinator.ts');
export const WORKER_CLI = path.join(ROOT, 'packages/worker/src/cli/worker.ts');

/** A TCP port free on loopback right now, for a process that must be told its port beforehand. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `gradsync-${prefix}-`));
}

/** A small synthetic data set in the CIFAR-10 binary layout, written to a fresh folder. */
export async function syntheticDataDir(train: number, test: number, seed = 3): Promise<string> {
  const dir = tempDir('data');
  await writeCifar10Binary(dir, makeSyntheticCifar10({ train, test, seed }));
  return dir;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript CLI as a real process (through tsx) and collects its output. */
/** The `gradsync` bin as pnpm links it. */
export const GRADSYNC_BIN = path.join(ROOT, 'node_modules', '.bin', 'gradsync');

/**
 * How to start a CLI: through tsx (or as is, for an executable such as GRADSYNC_BIN), behind
 * `launcher` when given (e.g. ['ip', 'netns', 'exec', NAME]).
 */
function command(cli: string, args: string[], launcher: string[] = []): [string, string[]] {
  const line = [...launcher, ...(cli.endsWith('.ts') ? [TSX] : []), cli, ...args];
  return [line[0], line.slice(1)];
}

export function runCli(
  cli: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; launcher?: string[]; cwd?: string } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(...command(cli, args, options.launcher), {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function readMetrics(runDir: string): MetricRecord[] {
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricRecord);
}

export const steps = (records: MetricRecord[]) => records.filter((r): r is StepRecord => r.kind === 'step');
export const epochs = (records: MetricRecord[]) => records.filter((r): r is EpochRecord => r.kind === 'epoch');
export const endOf = (records: MetricRecord[]) => records.find((r): r is EndRecord => r.kind === 'end');

/** Workers trained as one: more than `minHashed` hashed steps, each with `workers` identical weight hashes, and the last epoch's loss below the first's. */
export function expectTrainedTogether(records: MetricRecord[], workers = 2, minHashed = 3): void {
  const hashed = steps(records).filter((s) => s.hashes);
  expect(hashed.length).toBeGreaterThan(minHashed);
  for (const s of hashed) {
    expect(s.hashes).toHaveLength(workers);
    expect(new Set(s.hashes).size).toBe(1);
  }
  const byEpoch = epochs(records);
  expect(byEpoch.at(-1)!.trainLoss).toBeLessThan(byEpoch[0]!.trainLoss);
}

/** The exported model's weights as floats (model/weights.bin in the layers format). */
export function exportedWeights(runDir: string): Float32Array {
  const b = readFileSync(path.join(runDir, 'model', 'weights.bin'));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface StreamingProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr (also matches output already seen); rejects if the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL to its process group after `graceMs` if it has not exited; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a TypeScript CLI as a real process (through tsx) whose output can be waited on while it runs. */
export function startCliStreaming(cli: string, args: string[], options: { env?: NodeJS.ProcessEnv; launcher?: string[] } = {}): StreamingProcess {
  // Its own process group, so stop() can take the worker processes down with it.
  const child = spawn(...command(cli, args, options.launcher), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      done = true;
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    });
  });
  exited.catch(() => {});
  return {
    child,
    output: () => out,
    exited,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(out);
          if (m) finish(() => resolve(m));
          else if (done) finish(() => reject(new Error(`process exited before printing ${pattern}:\n${out.slice(-3000)}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${out.slice(-3000)}`))),
          timeoutMs,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 5_000) {
      if (done || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, graceMs);
      await exited.catch(() => {});
      clearTimeout(killer);
      try {
        process.kill(-child.pid!, 'SIGKILL'); // any worker left behind in its group
      } catch {
        // the group is gone
      }
    },
  };
}

/** `pnpm start` as a real process on `dataDir` (its last 128 images validate) into `runsDir/name`; throws with its stderr when it fails. */
/**
 * For a test file of `pnpm start` runs on one synthetic data folder (768 training images, the
 * last 128 validating: 640 train, 10 steps of 64 an epoch): made before the tests, runs in one
 * temporary runs folder. `start(name, flags)` runs one; the folders are there for runs made
 * another way.
 */
export function useSyntheticRuns(beforeAllHook: (fn: () => Promise<void>) => void) {
  let dataDir = '';
  let runsDir = '';
  beforeAllHook(async () => {
    dataDir = await syntheticDataDir(768, 128);
    runsDir = tempDir('runs');
  });
  return {
    start: (name: string, args: string[], env?: NodeJS.ProcessEnv) => startRun({ dataDir, runsDir, name, args, env }),
    get dataDir() {
      return dataDir;
    },
    get runsDir() {
      return runsDir;
    },
  };
}

export async function startRun(o: { dataDir: string; runsDir: string; name: string; args: string[]; env?: NodeJS.ProcessEnv }) {
  const result = await runCli(
    START_CLI,
    ['--data-dir', o.dataDir, '--validation', '128', '--port', '0', '--runs-dir', o.runsDir, '--run-name', o.name, ...o.args],
    { env: o.env },
  );
  const runDir = path.join(o.runsDir, o.name);
  if (result.code !== 0) throw new Error(`run ${o.name} exited ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);
  return { ...result, runDir, records: readMetrics(runDir) };
}
