import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeBackendHost } from '@gradsync/backends';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCsvMatchesJsonl, expectEventsMatchJsonl, readEventFiles } from './helpers/metrics-files';
import { endOf, epochs, exportedWeights, maxAbsDiff, readMetrics, runCli, START_CLI, steps, useSyntheticRuns } from './helpers/runs';

const oneDnnHere = nodeBackendHost.loadOneDnn().ok;

// Real processes and sockets: `pnpm start` spawns a coordinator and worker processes on loopback.
const runs = useSyntheticRuns(beforeAll);
const start = runs.start;

describe('single-node distributed training', () => {
  it('trains the seed CNN with 3 workers: loss falls, replicas stay identical, BatchNorm statistics included', async () => {
    const run = await start('seed3', ['--workers', '3', '--epochs', '3', '--lr', '0.002', '--model', 'seed-cnn', '--hash-every', '5', '--split', 'equal']);
    const ep = epochs(run.records);
    expect(ep).toHaveLength(3);
    expect(ep[2].trainLoss).toBeLessThan(ep[0].trainLoss * 0.8);
    expect(ep[2].trainAccuracy).toBeGreaterThan(0.3); // chance is 0.1
    // Every global batch of 64 was split 22/21/21 across the 3 ranks.
    const st = steps(run.records);
    expect(st).toHaveLength(30);
    for (const s of st) {
      expect(s.samples).toBe(64);
      expect(s.workers.map((w) => w.count).sort()).toEqual([21, 21, 22]);
    }
    const checked = st.filter((s) => s.hashes);
    expect(checked.length).toBeGreaterThanOrEqual(6);
    for (const s of checked) expect(new Set(s.hashes).size).toBe(1);
    expect(run.records.some((r) => r.kind === 'message' && r.level === 'error')).toBe(false);
    // CI installs g++ and libdnnl-dev, so `auto` must have chosen the native backend there.
    if (process.env.CI === 'true') {
      const backends = new Set(run.records.filter((r) => r.kind === 'worker').map((r) => (r as { backend: string }).backend));
      expect([...backends].every((b) => b.startsWith('onednn'))).toBe(true);
    }
    expect(ep[2].validation?.count).toBe(128);
    expect(ep[2].test?.count).toBe(128);
    expect(ep[2].test?.confusion.reduce((a, b) => a + b, 0)).toBe(128);
    expect(endOf(run.records)?.status).toBe('completed');
    expect(existsSync(path.join(run.runDir, 'model', 'model.json'))).toBe(true);
    expect(existsSync(path.join(run.runDir, 'checkpoints', '00000030', 'state.bin'))).toBe(true);
  }, 300_000);

  it('ring and star all-reduce give the same weights; accuracy beats chance on held-out data', async () => {
    // --split equal: the same split in both runs (the speed split follows timings), so the same sums.
    const common = ['--workers', '2', '--epochs', '3', '--model', 'tiny-cnn', '--lr', '0.005', '--split', 'equal'];
    const ring = await start('ring2', [...common, '--allreduce', 'ring']);
    const star = await start('star2', [...common, '--allreduce', 'star']);
    expect(ring.stderr).toMatch(/ring all-reduce/);
    expect(star.stderr).toMatch(/star all-reduce/);
    // With two ranks both schedules add the same two numbers: bit-identical results.
    expect(maxAbsDiff(exportedWeights(ring.runDir), exportedWeights(star.runDir))).toBe(0);
    const last = epochs(ring.records).at(-1)!;
    expect(last.test!.accuracy).toBeGreaterThan(0.3);
    expect(last.trainLoss).toBeLessThan(epochs(ring.records)[0].trainLoss);
  }, 300_000);

  it('--wire-dtype bf16 and fp16: half the bytes on the wire, replicas still identical, training close to float32', async () => {
    const common = ['--workers', '3', '--epochs', '2', '--model', 'tiny-cnn', '--lr', '0.005', '--split', 'equal', '--hash-every', '4'];
    const full = await start('wire-f32', common);
    const sentPerStep = (records: typeof full.records) => steps(records).map((s) => s.workers.reduce((n, w) => n + (w.sentBytes ?? 0), 0));
    for (const wire of ['bf16', 'fp16']) {
      const half = await start(`wire-${wire}`, [...common, '--wire-dtype', wire]);
      expect(half.stderr).toMatch(new RegExp(`ring all-reduce, ${wire} on the wire`));
      expect(endOf(half.records)?.status).toBe('completed');
      const checked = steps(half.records).filter((s) => s.hashes);
      expect(checked.length).toBeGreaterThanOrEqual(4);
      for (const s of checked) expect(new Set(s.hashes).size).toBe(1);
      // Payload halves; each segment's headers stay.
      const ratio = sentPerStep(half.records)[3] / sentPerStep(full.records)[3];
      expect(ratio).toBeGreaterThan(0.49);
      expect(ratio).toBeLessThan(0.52);
      // Not the float32 run's weights (the rounding is real), but the same training.
      const diff = maxAbsDiff(exportedWeights(half.runDir), exportedWeights(full.runDir));
      expect(diff).toBeGreaterThan(0);
      const lastHalf = epochs(half.records).at(-1)!;
      const lastFull = epochs(full.records).at(-1)!;
      expect(Math.abs(lastHalf.trainLoss - lastFull.trainLoss)).toBeLessThan(0.1 * lastFull.trainLoss);
    }
  }, 300_000);

  it('4 workers: halving-doubling for the small buffers (Note [Algorithm by size]); replicas identical at every step', async () => {
    const run = await start('hd4', ['--workers', '4', '--epochs', '2', '--model', 'tiny-cnn', '--lr', '0.005', '--split', 'equal', '--hash-every', '1']);
    expect(run.stderr).toMatch(/group 1: 4 worker\(s\), ring all-reduce \(halving-doubling for buffers up to 1024 KiB\)/);
    // Each worker counts what its reducer ran: tiny-cnn's buckets are all small, so halving-doubling only.
    const counts = [...run.stderr.matchAll(/all-reduce operations in the group: (\d+) by ring, (\d+) by halving-doubling/g)];
    expect(counts).toHaveLength(4);
    for (const [, ring, hd] of counts) {
      expect(Number(ring)).toBe(0);
      expect(Number(hd)).toBeGreaterThan(10);
    }
    const st = steps(run.records);
    expect(st.length).toBeGreaterThan(10);
    for (const s of st) {
      expect(s.hashes).toHaveLength(4);
      expect(new Set(s.hashes).size).toBe(1);
    }
    const ep = epochs(run.records);
    expect(ep.at(-1)!.trainLoss).toBeLessThan(ep[0].trainLoss);
    expect(endOf(run.records)?.status).toBe('completed');
  }, 300_000);

  it('--overlap on and off give the same weights (Note [Bucket plan]): 3 workers, several buckets, the ring on its own thread', async () => {
    // 256-byte buckets: tiny-cnn's 8.7 KiB buffer in two, so the order of sums inside each matters at 3 ranks.
    const common = ['--workers', '3', '--epochs', '2', '--model', 'tiny-cnn', '--lr', '0.005', '--split', 'equal', '--hash-every', '5', '--bucket-kib', '0.25'];
    const on = await start('overlap-on', common, { GRADSYNC_OVERLAP: 'on' });
    const off = await start('overlap-off', common, { GRADSYNC_OVERLAP: 'off' });
    expect(on.stderr.match(/all-reduce overlaps the backward pass/g)).toHaveLength(3);
    expect(off.stderr).not.toMatch(/all-reduce overlaps the backward pass/);
    for (const run of [on, off]) {
      expect(endOf(run.records)?.status).toBe('completed');
      const checked = steps(run.records).filter((s) => s.hashes);
      expect(checked.length).toBeGreaterThanOrEqual(4);
      for (const s of checked) expect(new Set(s.hashes).size).toBe(1);
    }
    expect(steps(on.records).map((s) => s.hashes?.[0])).toEqual(steps(off.records).map((s) => s.hashes?.[0]));
    expect(maxAbsDiff(exportedWeights(on.runDir), exportedWeights(off.runDir))).toBe(0);
    // One frame header per segment: more buckets, more headers, same payload as a single operation.
    const whole = await start('overlap-one-bucket', [...common.slice(0, -2), '--bucket-kib', '100000'], { GRADSYNC_OVERLAP: 'on' });
    const sent = (r: typeof on) => steps(r.records)[3].workers[0].sentBytes ?? 0;
    expect(sent(on)).toBeGreaterThan(sent(whole));
    expect(sent(on) - sent(whole)).toBeLessThan(0.05 * sent(whole));
  }, 300_000);

  it('1 worker and 3 workers follow the same trajectory (same seed, same global batch)', async () => {
    const common = ['--epochs', '2', '--model', 'tiny-cnn', '--lr', '0.005'];
    const one = await start('inv1', [...common, '--workers', '1']);
    const three = await start('inv3', [...common, '--workers', '3', '--allreduce', 'ring']);
    const diff = maxAbsDiff(exportedWeights(one.runDir), exportedWeights(three.runDir));
    // Only float32 summation order differs (a batch's gradient summed in one pass vs in three
    // partial sums, then a ring): ~1e-7 relative per step, which Adam's normalised steps carry
    // through 20 updates of size ≤ lr = 5e-3. A wrong split or average moves weights by ~lr per step.
    expect(diff).toBeLessThan(1e-4);
    const l1 = steps(one.records).map((s) => s.loss);
    const l3 = steps(three.records).map((s) => s.loss);
    l1.forEach((l, i) => expect(l3[i]).toBeCloseTo(l, 3));
  }, 300_000);

  // onednn and wasm agree numerically and differ in speed; CI installs onednn, so it runs there.
  it.skipIf(!oneDnnHere && process.env.CI !== 'true')(
    'any split follows the same trajectory: --split speed over workers of different speeds matches --split equal',
    async () => {
      const common = ['--epochs', '2', '--model', 'tiny-cnn', '--lr', '0.005', '--workers', '2', '--worker-backend', 'onednn,wasm', '--allreduce', 'ring'];
      const equal = await start('split-equal', [...common, '--split', 'equal']);
      const speed = await start('split-speed', [...common, '--split', 'speed']);
      expect(JSON.parse(readFileSync(path.join(speed.runDir, 'config.json'), 'utf8')).split).toBe('speed');
      expect(JSON.parse(readFileSync(path.join(equal.runDir, 'config.json'), 'utf8')).split).toBe('equal');
      const equalSteps = steps(equal.records);
      const speedSteps = steps(speed.records);
      expect(speedSteps).toHaveLength(equalSteps.length);
      for (const s of equalSteps)
        expect(s.workers.map((w) => [w.count, w.share])).toEqual([
          [32, 0.5],
          [32, 0.5],
        ]);
      // Every step's shares cover its batch; the speed split moved well away from 32/32.
      for (const s of speedSteps) {
        expect(s.workers.reduce((a, w) => a + w.count, 0)).toBe(64);
        expect(s.workers.reduce((a, w) => a + (w.share ?? 0), 0)).toBeCloseTo(1, 12);
      }
      const uneven = speedSteps.filter((s) => Math.max(...s.workers.map((w) => w.count)) >= 36);
      expect(uneven.length).toBeGreaterThanOrEqual(3);
      // Same global batches in the same order: only float32 summation order differs (see the test above).
      expect(maxAbsDiff(exportedWeights(equal.runDir), exportedWeights(speed.runDir))).toBeLessThan(1e-4);
      equalSteps.forEach((s, i) => expect(speedSteps[i].loss).toBeCloseTo(s.loss, 3));
    },
    300_000,
  );

  it('resumes from a checkpoint to the same weights as an uninterrupted run', async () => {
    const common = ['--workers', '2', '--model', 'tiny-cnn', '--lr', '0.005', '--seed', '9', '--split', 'equal'];
    const whole = await start('whole', [...common, '--epochs', '3']);
    await start('parted', [...common, '--epochs', '1']);
    const resumed = await runCli(START_CLI, [
      '--resume',
      path.join(runs.runsDir, 'parted'),
      '--epochs',
      '3',
      '--data-dir',
      runs.dataDir,
      '--port',
      '0',
      '--workers',
      '2',
    ]);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .*parted.* \(epoch 2, step 10\)/);
    // The wasm backend is deterministic and tiny-cnn has no dropout: bit-identical.
    expect(maxAbsDiff(exportedWeights(whole.runDir), exportedWeights(path.join(runs.runsDir, 'parted')))).toBe(0);
    const records = readMetrics(path.join(runs.runsDir, 'parted'));
    expect(epochs(records).map((e) => e.epoch)).toEqual([0, 1, 2]);
    // The metric files continue too: each epoch once in epochs.csv; a second events file that
    // starts by telling TensorBoard the run restarted at step 10.
    expectCsvMatchesJsonl(path.join(runs.runsDir, 'parted'), records);
    const events = readEventFiles(path.join(runs.runsDir, 'parted'));
    const files = [...new Set(events.map((e) => e.file))];
    expect(files).toHaveLength(2);
    expect(events.find((e) => e.file === files[1] && e.session_log_status !== undefined)).toMatchObject({ step: 10, session_log_status: 1 });
    expectEventsMatchJsonl(events, records);
    // Each worker reports its process's CPU and memory with every step.
    for (const w of steps(records).flatMap((s) => s.workers)) {
      expect(w.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(w.rssBytes).toBeGreaterThan(20 * 2 ** 20);
    }
  }, 300_000);
});
