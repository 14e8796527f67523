import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/index';
import { batchNormalization } from '../model/batch-norm-layer';
import { conv2d } from '../model/conv-layer';
import { dropout } from '../model/dropout-layer';
import { Replica, type ReplicaOptions } from './replica';
import { batchNormPlan, REDUCES_PER_BATCH_NORM, type ReduceSum } from './sync-batch-norm';
import { SEED_OPTIMIZER } from './optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * An all-reduce among `world` in-process ranks: the k-th call of every rank is operation k, answered
 * with the rank-ordered sum once all ranks have called (as the star all-reduce sums).
 */
function inProcessGroup(world: number): { reducers: ReduceSum[]; operations: () => number } {
  const ops: { parts: Float32Array[]; answer: ((sum: Float32Array) => void)[] }[] = [];
  const calls = new Array<number>(world).fill(0);
  const reducers = Array.from(
    { length: world },
    (_, rank): ReduceSum =>
      (data) =>
        new Promise((resolve) => {
          const k = calls[rank]!++;
          const op = (ops[k] ??= { parts: [], answer: [] });
          op.parts[rank] = data.slice();
          op.answer[rank] = resolve;
          if (op.parts.filter(Boolean).length < world) return;
          const sum = new Float32Array(data.length);
          for (const part of op.parts) for (let i = 0; i < sum.length; i++) sum[i]! += part[i]!;
          op.answer.forEach((answer) => answer(sum.slice()));
        }),
  );
  return { reducers, operations: () => ops.length };
}

/**
 * The seed CNN's layer kinds (its conv, BatchNorm and dropout layers, pooling, dense) at a size the
 * cpu backend steps through quickly; BatchNorm over feature maps and over a dense layer's output.
 */
function smallCnn(dropoutRate: number): tfl.Sequential {
  const init = (seed: number) => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  return tfl.sequential({
    layers: [
      conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', ...init(1) }),
      batchNormalization({ momentum: 0.9 }),
      conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', ...init(2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      dropout({ rate: dropoutRate }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 16, activation: 'relu', ...init(3) }),
      batchNormalization({ momentum: 0.9 }),
      tfl.layers.dense({ units: 10, ...init(4) }),
    ],
  });
}

/** Dropout off, so that one process and two replicas see the same network. */
const withoutDropout = (options: ReplicaOptions) => new Replica(smallCnn(0), options);

const PLAIN: ReplicaOptions = { optimizer: SEED_OPTIMIZER, labelSmoothing: 0.1 };
const SYNC: ReplicaOptions = { ...PLAIN, syncBatchNorm: true };

function batchOf(n: number) {
  const images = new Uint8Array(n * 3072).map((_, i) => (i * 131 + ((i / 3072) | 0) * 17) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10);
  return { images, labels };
}

function slice(batch: ReturnType<typeof batchOf>, start: number, end: number) {
  return { images: batch.images.subarray(start * 3072, end * 3072), labels: batch.labels.subarray(start, end), augment: null };
}

/** Largest difference relative to the largest magnitude of `want`, over [from, to). */
function relativeDiff(got: Float32Array, want: Float32Array, from: number, to: number): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = from; i < to; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

/** Every rank's step over its share; returns the summed buffers and the ranks' outputs. */
async function syncStep(replicas: Replica[], batch: ReturnType<typeof batchOf>, bounds: number[]) {
  const group = inProcessGroup(replicas.length);
  const outs = await Promise.all(replicas.map((r, rank) => r.computeStep(slice(batch, bounds[rank]!, bounds[rank + 1]!), group.reducers[rank])));
  const sum = new Float32Array(outs[0]!.buffer.length);
  for (const o of outs) for (let i = 0; i < sum.length; i++) sum[i]! += o.buffer[i]!;
  return { sum, outs, operations: group.operations() };
}

describe('synchronised BatchNorm', () => {
  const n = 8;
  const batch = batchOf(n);

  it.each([
    ['halves', [0, 4, 8]],
    ['5 + 3', [0, 5, 8]],
    ['all on one rank, none on the other', [0, 8, 8]],
  ])(
    'two replicas on %s equal one process over the global batch (gradients, moving statistics, loss)',
    async (_, bounds) => {
      const single = withoutDropout(PLAIN);
      const reference = await single.computeStep({ ...slice(batch, 0, n) });
      const replicas = [withoutDropout(SYNC), withoutDropout(SYNC)];
      const { sum, outs, operations } = await syncStep(replicas, batch, bounds);
      expect(operations).toBe(2 * REDUCES_PER_BATCH_NORM); // two BatchNorm layers
      const t = single.layout.trainableSize;
      for (const s of single.layout.trainable) {
        expect(relativeDiff(sum, reference.buffer, s.offset, s.offset + s.size), s.name).toBeLessThan(1e-4);
      }
      // Moving statistics: sums in another order than tf.moments', float32 noise of a few 1e-5.
      expect(relativeDiff(sum, reference.buffer, t, sum.length)).toBeLessThan(1e-4);
      const meanLoss = outs.reduce((a, o) => a + o.loss * o.count, 0) / n;
      expect(meanLoss).toBeCloseTo(reference.loss, 5);
      expect(outs.reduce((a, o) => a + o.correct, 0)).toBe(reference.correct);
      // Applied on every rank: identical replicas, equal (within float32 noise) to the single process.
      single.applySummed(reference.buffer, n, 1e-3);
      for (const r of replicas) r.applySummed(sum, n, 1e-3);
      expect(replicas[1]!.weightsHash()).toBe(replicas[0]!.weightsHash());
      let worst = 0;
      for (let i = 0; i < t; i++) worst = Math.max(worst, Math.abs(replicas[0]!.params[i]! - single.params[i]!));
      // Adam's first step is about ±lr whatever |g|, so near-zero gradients carry their float32 noise
      // into the weights: a tenth of the step bounds it.
      expect(worst).toBeLessThan(1e-4);
      [single, ...replicas].forEach((r) => r.model.dispose());
    },
    60_000,
  );

  it('on one rank (the reduce returns its input) is the ordinary step', async () => {
    const plain = withoutDropout(PLAIN);
    const synced = withoutDropout(SYNC);
    const want = await plain.computeStep(slice(batch, 0, n));
    const got = await synced.computeStep(slice(batch, 0, n), async (data) => data);
    expect(relativeDiff(got.buffer, want.buffer, 0, got.buffer.length)).toBeLessThan(1e-4);
    [plain, synced].forEach((r) => r.model.dispose());
  }, 60_000);

  it('with dropout on, learns a fixed batch and leaks no tensors', async () => {
    const replica = new Replica(smallCnn(0.25), SYNC);
    const step = async () => {
      const out = await replica.computeStep(slice(batch, 0, n), async (data) => data);
      replica.applySummed(out.buffer, out.count, 3e-3);
      return out.loss;
    };
    const first = await step();
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 25; i++) last = await step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(last).toBeLessThan(first);
    replica.model.dispose();
  }, 60_000);

  it('says which models cannot take it, and needs the group reduce', async () => {
    expect(batchNormPlan(buildModel('seed-cnn', 1)).ok).toBe(true);
    const plan = (name: string) => {
      const model = buildModel(name, 1);
      const p = batchNormPlan(model);
      model.dispose();
      return p;
    };
    expect(plan('resnet9')).toEqual({ ok: false, reason: expect.stringMatching(/--sync-bn needs a sequential model.*residual/) });
    expect(plan('linear')).toEqual({ ok: false, reason: expect.stringMatching(/has no BatchNorm layer/) });
    expect(() => new Replica(buildModel('linear', 1), SYNC)).toThrow(/no BatchNorm layer/);
    const replica = withoutDropout(SYNC);
    await expect(replica.computeStep(slice(batch, 0, 2))).rejects.toThrow(/needs the group all-reduce/);
    replica.model.dispose();
  });
});
