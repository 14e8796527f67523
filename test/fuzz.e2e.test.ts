import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionOutcome, coordinatorScenario, Rng, ringScenario, throwRawTcp, throwScenario } from './helpers/fuzz';
import {
  COORDINATOR_CLI,
  endOf,
  epochs,
  readMetrics,
  startCliStreaming,
  steps,
  type StreamingProcess,
  syntheticDataDir,
  tempDir,
  WORKER_CLI,
} from './helpers/runs';

// A real run (a coordinator and 2 worker processes on loopback) while a seeded fuzzer throws
// frames at the coordinator's /worker endpoint and at both workers' ring ports.
const SEED = 0x5eed_f022;
const TOKEN = 'fuzz-s3cret';
const EPOCHS = 200;
const TRAIN = 128; // 4 steps of 32 per epoch
const BATCH = 32;
const MIN_FRAMES = 10_000;
const MAX_FUZZ_MS = 50_000;
const CONCURRENCY = 24;

let coordinator: StreamingProcess;
let workers: StreamingProcess[] = [];
let workerUrl: string;
let coordinatorPort: number;
let ringUrls: string[] = [];
let runDir: string;

beforeAll(async () => {
  const dataDir = await syntheticDataDir(TRAIN, 32, 11);
  const runsDir = tempDir('fuzz-runs');
  runDir = path.join(runsDir, 'fuzz');
  coordinator = startCliStreaming(COORDINATOR_CLI, [
    ...['--workers', '2', '--port', '0', '--data-dir', dataDir, '--validation', '0', '--epochs', String(EPOCHS), '--batch-size', String(BATCH)],
    ...['--model', 'tiny-cnn', '--runs-dir', runsDir, '--run-name', 'fuzz', '--token', TOKEN],
  ]);
  workerUrl = (await coordinator.waitForLine(/workers connect to (ws:\/\/\S+)/))[1];
  coordinatorPort = Number(new URL(workerUrl).port);
  workers = [0, 1].map(() => startCliStreaming(WORKER_CLI, ['--coordinator', workerUrl, '--cpu', '--token', TOKEN]));
  ringUrls = (await Promise.all(workers.map((w) => w.waitForLine(/ring endpoint (ws:\/\/\S+)/)))).map((m) => m[1]);
  // Training has begun once the first step is in the metrics.
  const deadline = Date.now() + 90_000;
  while (!firstStepRecorded()) {
    if (Date.now() > deadline || !stillRunning()) throw new Error(`the run did not start training:\n${coordinator.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

function firstStepRecorded(): boolean {
  try {
    return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').includes('"kind":"step"');
  } catch {
    return false;
  }
}

afterAll(async () => {
  await Promise.all([coordinator, ...workers].filter(Boolean).map((p) => p.stop()));
});

const stillRunning = () => [coordinator, ...workers].every((p) => p.child.exitCode === null && p.child.signalCode === null);

describe('a live run under fuzzing', () => {
  it('a frame above maxPayload closes that connection with 1009 (coordinator and ring port)', async () => {
    const big = new Uint8Array(16 << 20); // above the coordinator's 4 MiB + and the ring's 1 MiB limit
    const atCoordinator = await throwScenario(workerUrl, { name: 'oversize', frames: [big] });
    expect(atCoordinator).toMatchObject({ opened: true, code: 1009 });
    const atRing = await throwScenario(ringUrls[0], { name: 'oversize', frames: [big.subarray(0, (1 << 20) + 1)] });
    expect(atRing).toMatchObject({ opened: true, code: 1009 });
    await coordinator.waitForLine(/frame too large: Max payload size exceeded/, 10_000);
    expect(stillRunning()).toBe(true);
  });

  it(`survives ${MIN_FRAMES}+ fuzzed frames on the coordinator's /worker endpoint and both ring ports`, async () => {
    // Fuzzes until MIN_FRAMES have landed while the run trains (it must not end first), at most MAX_FUZZ_MS.
    const rng = new Rng(SEED);
    const started = Date.now();
    const runOver = () => !stillRunning() || /run (completed|failed)/.test(coordinator.output());
    const outcomes: { target: 'coordinator' | 'ring'; scenario: string; out: ConnectionOutcome; duringRun: boolean }[] = [];
    let raw = 0;
    let landed = 0;
    const next = async (): Promise<void> => {
      // Decided before the connection opens, so the sequence depends on the seed only.
      const pick = rng.next();
      if (pick < 0.01) {
        raw++;
        await throwRawTcp(pick < 0.005 ? coordinatorPort : Number(new URL(ringUrls[rng.int(2)]).port), rng);
        return;
      }
      const toRing = pick < 0.25;
      const scenario = toRing ? ringScenario(rng) : coordinatorScenario(rng);
      const url = toRing ? ringUrls[rng.int(2)] : workerUrl;
      const out = await throwScenario(url, scenario, scenario.name === 'silent' ? 300 : 3_000);
      const duringRun = !runOver();
      if (duringRun) landed += out.sent;
      outcomes.push({ target: toRing ? 'ring' : 'coordinator', scenario: scenario.name, out, duringRun });
    };
    const lane = async () => {
      while (landed < MIN_FRAMES && !runOver() && Date.now() - started < MAX_FUZZ_MS) await next();
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const fuzzMs = Date.now() - started;
    // Connections that closed before the run ended (the rest may have met its shutdown).
    const during = outcomes.filter((o) => o.duringRun);
    const frames = during.reduce((a, o) => a + o.out.sent, 0);
    const byCode = new Map<string, number>();
    for (const o of during) byCode.set(`${o.target} ${o.out.code}`, (byCode.get(`${o.target} ${o.out.code}`) ?? 0) + 1);
    console.log(
      `fuzz: ${frames} frames on ${during.length} WebSocket connections (+ ${raw} raw TCP) while the run trained, ${(fuzzMs / 1000).toFixed(1)} s; ` +
        `close codes: ${[...byCode.entries()].map(([k, n]) => `${k}: ${n}`).join(', ')}`,
    );

    expect(frames).toBeGreaterThanOrEqual(MIN_FRAMES);
    expect(fuzzMs).toBeLessThan(60_000);
    // The fuzzing overlapped the run: nobody has exited, the run goes on after it.
    expect(runOver()).toBe(false);
    // Every connection was opened and then closed by the server with a protocol-level code
    // (or cut off by the fuzzer: only the 'silent' ones, which the server keeps until its hello timeout).
    const coordinatorConns = during.filter((o) => o.target === 'coordinator');
    const ringConns = during.filter((o) => o.target === 'ring');
    expect(during.filter((o) => !o.out.opened)).toEqual([]);
    for (const o of coordinatorConns.filter((c) => c.scenario !== 'silent')) expect([1002, 1003, 1009, 4001]).toContain(o.out.code);
    for (const o of ringConns) expect([1002, 1008, 1009]).toContain(o.out.code);
    expect(coordinatorConns.filter((o) => o.out.code === 4001).length).toBeGreaterThan(100); // hellos with a wrong or no token
    expect(coordinatorConns.filter((o) => o.out.code === 1003).length).toBeGreaterThan(50); // text frames
  }, 90_000);

  it('the run finishes: every process exits 0, every epoch is in the metrics, the refusals are in the coordinator log', async () => {
    const [c, ...w] = await Promise.all([coordinator, ...workers].map((p) => p.exited));
    const outputs = [coordinator, ...workers].map((p) => p.output());
    expect(c, outputs[0].slice(-3000)).toEqual({ code: 0, signal: null });
    for (const [i, x] of w.entries()) expect(x, outputs[i + 1].slice(-3000)).toEqual({ code: 0, signal: null });
    for (const out of outputs) {
      expect(out).not.toMatch(/internal error|uncaught|unhandled/i);
      expect(out).not.toMatch(/^\s{4}at /m);
    }
    const records = readMetrics(runDir);
    expect(epochs(records).map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i));
    expect(steps(records)).toHaveLength(EPOCHS * (TRAIN / BATCH));
    expect(endOf(records)).toMatchObject({ status: 'completed', epochs: EPOCHS, steps: EPOCHS * (TRAIN / BATCH) });
    // Replicas stayed identical throughout.
    for (const s of steps(records).filter((x) => x.hashes)) expect(new Set(s.hashes).size).toBe(1);
    // No fuzzer ever became a member, and no member was lost.
    const workerRecords = records.filter((r) => r.kind === 'worker');
    expect(new Set(workerRecords.map((r) => r.pid)).size).toBe(2); // the two real workers
    expect(workerRecords.every((r) => r.rank < 2)).toBe(true);
    const endAt = records.findIndex((r) => r.kind === 'end');
    expect(records.slice(0, endAt).filter((r) => r.kind === 'worker' && r.status === 'gone')).toEqual([]);

    // The coordinator logged the refusals: the first ones line by line, the rest summed up.
    const log = outputs[0];
    for (const kind of ['protocol error', 'text frame', 'wrong token', 'message before hello', 'frame too large']) expect(log).toContain(`: ${kind}: `);
    expect(log).toMatch(/refused \d+ more worker connection\(s\) in the last 10 s: .*protocol error/);
    // No forged lines: network text is escaped before it reaches the log.
    expect(log).not.toMatch(/^worker joined: rank 0 on forged/m);
  }, 180_000);
});
