import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord, WorkerRecord } from '@gradsync/metrics';
import {
  COORDINATOR_CLI,
  endOf,
  epochs,
  exportedWeights,
  maxAbsDiff,
  readMetrics,
  runCli,
  type StreamingProcess,
  startCliStreaming,
  steps,
  syntheticDataDir,
  tempDir,
  WORKER_CLI,
} from './helpers/runs';

// Real coordinator and worker processes on loopback; workers are killed with SIGKILL.
let dataDir: string;
let runsDir: string;
const running: StreamingProcess[] = [];
const TRAIN = 2048; // minus 128 for validation = 1920 training images = 30 steps of 64 per epoch
const STEPS_PER_EPOCH = 30;

beforeAll(async () => {
  dataDir = await syntheticDataDir(TRAIN, 128);
  runsDir = tempDir('fault-runs');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop(1000)));
});

function coordinator(name: string, args: string[]): StreamingProcess {
  const p = startCliStreaming(COORDINATOR_CLI, [
    '--data-dir',
    dataDir,
    '--validation',
    '128',
    '--port',
    '0',
    '--runs-dir',
    runsDir,
    '--run-name',
    name,
    '--model',
    'tiny-cnn',
    '--lr',
    '0.005',
    ...args,
  ]);
  running.push(p);
  return p;
}

function worker(url: string, extra: string[] = []): StreamingProcess {
  const p = startCliStreaming(WORKER_CLI, ['--coordinator', url, '--cpu', ...extra]);
  running.push(p);
  return p;
}

async function workerUrl(c: StreamingProcess): Promise<string> {
  return (await c.waitForLine(/workers connect to (ws:\/\/\S+)/, 120_000))[1];
}

function killGroup(p: StreamingProcess): void {
  process.kill(-p.child.pid!, 'SIGKILL');
}

/**
 * The group broke with a step and the next one, ordered ahead, in flight: the regroup settled
 * both, in order (each redone, or counted where the survivors' weights held it), and orders
 * went out ahead before and after.
 */
function expectTwoStepsSettled(output: string): void {
  const settled = [...output.matchAll(/step (\d+) (is redone by the new group|had been applied by the group)/g)].map((m) => Number(m[1]));
  expect(settled, output.slice(-3000)).toHaveLength(2);
  expect(settled[1]).toBe(settled[0] + 1);
  expect(Number(/step orders sent a step ahead: (\d+)/.exec(output)?.[1])).toBeGreaterThan(50);
}

describe('faults', () => {
  it('a worker killed with SIGKILL mid-epoch: detected fast, the step is redone by the survivors, no sample lost or repeated', async () => {
    // Hashes at each epoch's end only: then every step but an epoch's last has the next one ordered
    // ahead, so the kill (early in epoch 2) lands with two steps in flight (Note [Orders ahead]).
    const c = coordinator('kill1', ['--workers', '3', '--epochs', '6', '--hash-every', '1000']);
    const url = await workerUrl(c);
    const ws = [worker(url), worker(url), worker(url)];
    await c.waitForLine(/checkpoint written: .*00000030/, 180_000);
    const killedAt = Date.now();
    killGroup(ws[1]);
    const { code } = await c.exited;
    expect(code, c.output().slice(-3000)).toBe(0);
    const records = readMetrics(path.join(runsDir, 'kill1'));
    const gone = records.find((r): r is WorkerRecord => r.kind === 'worker' && r.status === 'gone');
    expect(gone).toBeDefined();
    expect(gone!.t - killedAt).toBeLessThan(10_000);
    expect(c.output()).toMatch(/2 worker\(s\) remain/);
    // Every step of every epoch exactly once, each with the full global batch: every sample of
    // each epoch used exactly once.
    const st = steps(records);
    expect(st.map((s) => s.step)).toEqual(Array.from({ length: 6 * STEPS_PER_EPOCH }, (_, i) => i));
    for (let e = 0; e < 6; e++) {
      expect(st.filter((s) => s.epoch === e).reduce((a, s) => a + s.samples, 0)).toBe(TRAIN - 128);
    }
    // After the kill the group has 2 ranks and their weights stay identical.
    // Steps recorded after the departure (in file order). A step the group had applied before
    // every rank reported is recorded as recovered, with the answers that had arrived.
    const goneAt = records.indexOf(gone!);
    const after = records.slice(goneAt).filter((r): r is StepRecord => r.kind === 'step' && !r.recovered);
    expect(after.length).toBeGreaterThan(10);
    for (const s of after) expect(s.workers.length).toBe(2);
    for (const s of after.filter((x) => x.hashes)) expect(new Set(s.hashes).size).toBe(1);
    expect(endOf(records)?.status).toBe('completed');
    expect(epochs(records)).toHaveLength(6);
    expectTwoStepsSettled(c.output());
  }, 400_000);

  it('a worker stopped with SIGSTOP mid-epoch: silent past the heartbeat timeout, it is dropped and the step redone, nothing applied twice', async () => {
    const c = coordinator('stop1', ['--workers', '3', '--epochs', '4', '--hash-every', '1000', '--heartbeat-timeout', '2']);
    const url = await workerUrl(c);
    const ws = [worker(url), worker(url), worker(url)];
    await c.waitForLine(/checkpoint written: .*00000030/, 180_000);
    process.kill(-ws[1].child.pid!, 'SIGSTOP');
    try {
      const { code } = await c.exited;
      expect(code, c.output().slice(-3000)).toBe(0);
    } finally {
      process.kill(-ws[1].child.pid!, 'SIGCONT');
    }
    const records = readMetrics(path.join(runsDir, 'stop1'));
    expect(records.some((r) => r.kind === 'worker' && r.status === 'gone')).toBe(true);
    expect(c.output()).toMatch(/2 worker\(s\) remain/);
    const st = steps(records);
    expect(st.map((s) => s.step)).toEqual(Array.from({ length: 4 * STEPS_PER_EPOCH }, (_, i) => i));
    for (let e = 0; e < 4; e++) expect(st.filter((s) => s.epoch === e).reduce((a, s) => a + s.samples, 0)).toBe(TRAIN - 128);
    const lastHashes = st.filter((s) => s.hashes).at(-1)!;
    expect(lastHashes.hashes!.length).toBe(2);
    expect(new Set(lastHashes.hashes).size).toBe(1);
    expect(endOf(records)?.status).toBe('completed');
    expectTwoStepsSettled(c.output());
  }, 400_000);

  it('a worker that joins mid-run gets the weights and matches the others after its first step', async () => {
    const c = coordinator('join1', ['--workers', '2', '--epochs', '8', '--hash-every', '1']);
    const url = await workerUrl(c);
    worker(url);
    worker(url);
    await c.waitForLine(/checkpoint written: .*00000030/, 180_000);
    worker(url);
    await c.waitForLine(/group \d+: 3 worker\(s\)/, 120_000);
    const { code } = await c.exited;
    expect(code, c.output().slice(-3000)).toBe(0);
    const st = steps(readMetrics(path.join(runsDir, 'join1')));
    const withThree = st.filter((s) => s.workers.length === 3);
    expect(withThree.length).toBeGreaterThan(5);
    // Its first step already agrees with the others (hashes compared every step).
    expect(withThree[0].hashes).toHaveLength(3);
    expect(new Set(withThree[0].hashes).size).toBe(1);
    for (const s of withThree) expect(new Set(s.hashes).size).toBe(1);
    expect(st.map((s) => s.step)).toEqual(Array.from({ length: 8 * STEPS_PER_EPOCH }, (_, i) => i));
  }, 400_000);

  it('coordinator killed with SIGKILL, restarted with --resume: workers reconnect and the weights equal an uninterrupted run', async () => {
    // The same split in both runs (the speed split follows timings): the same float32 sums.
    const args = ['--workers', '2', '--epochs', '3', '--seed', '4', '--allreduce', 'star', '--split', 'equal'];
    const whole = coordinator('resume-whole', args);
    const wholeUrl = await workerUrl(whole);
    worker(wholeUrl);
    worker(wholeUrl);
    expect((await whole.exited).code, whole.output().slice(-2000)).toBe(0);

    // Same run on a fixed port so restarted coordinator and reconnecting workers meet again.
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const first = coordinator('resume-cut', [...args, '--port', port]);
    const url = await workerUrl(first);
    const workers = [worker(url, ['--connect-timeout', '120']), worker(url, ['--connect-timeout', '120'])];
    await first.waitForLine(/checkpoint written: .*00000030/, 180_000);
    killGroup(first);
    await first.exited;
    await Promise.all(workers.map((w) => w.waitForLine(/reconnecting|no heartbeat/, 20_000)));
    // Wait for both: with one, a loaded machine can finish the resumed run before the second worker's reconnect.
    const second = coordinator('resume-cut-2', ['--resume', path.join(runsDir, 'resume-cut'), '--port', port, '--workers', '2']);
    const { code } = await second.exited;
    expect(code, second.output().slice(-3000)).toBe(0);
    expect(second.output()).toMatch(/resuming .*resume-cut/);
    // tiny-cnn has no dropout or BatchNorm: the same steps from the same checkpoint. Measured: equal
    // to within one float32 rounding (≤ 1e-7) — the reconnected worker processes are the ones
    // that had already trained past the checkpoint; a wrong resume point or lost Adam state
    // differs by ~lr = 5e-3.
    expect(maxAbsDiff(exportedWeights(path.join(runsDir, 'resume-whole')), exportedWeights(path.join(runsDir, 'resume-cut')))).toBeLessThan(1e-6);
    for (const w of workers) {
      const { code: workerCode } = await w.exited;
      expect(workerCode, w.output().slice(-2000)).toBe(0);
    }
    expect(second.output()).toMatch(/group 1: 2 worker\(s\)/);
  }, 500_000);

  it('gradients that turn NaN/Inf are skipped on every rank, counted, and stop the run after K in a row', async () => {
    const r = await runCli(COORDINATOR_CLI.replace('coordinator.ts', 'start.ts'), [
      '--workers',
      '2',
      '--data-dir',
      dataDir,
      '--validation',
      '128',
      '--port',
      '0',
      '--runs-dir',
      runsDir,
      '--run-name',
      'nan1',
      '--model',
      'linear',
      '--lr',
      '1e38',
      '--epochs',
      '2',
      '--max-nonfinite',
      '3',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/3 steps in a row had NaN or Inf gradients.*lower --lr/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const records = readMetrics(path.join(runsDir, 'nan1'));
    expect(records.filter((x) => x.kind === 'message' && /NaN or Inf/.test(x.text)).length).toBeGreaterThanOrEqual(3);
    expect(endOf(records)?.status).toBe('failed');
  }, 300_000);
});
