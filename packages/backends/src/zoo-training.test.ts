import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadOneDnnBinding, ONEDNN_REBUILD } from '@gradsync/backend-onednn';
import { noteSkip } from '@gradsync/test-skips';
import { selectBackend } from './select-backend';
import { maxAbsDiff, seededValues } from '@gradsync/backend-wasm/node';
import { oneTrainingStep, fixedBatchLosses } from '@gradsync/testing';
import { airbench, resnet9, Replica, CROP_FLIP_AUGMENT, AIRBENCH_RECIPE, RESNET9_RECIPE } from '@gradsync/train';
import type * as tfl from '@tensorflow/tfjs-layers';

const addon = loadOneDnnBinding();
if (!addon.ok) {
  noteSkip({
    suite: 'resnet9 and airbench on onednn (packages/backends/src/zoo-training.test.ts)',
    why: addon.why,
    apt: ['g++', 'libdnnl-dev'],
    then: ONEDNN_REBUILD,
  });
}

/** The larger zoo models at test widths, each with its own layers and its recipe's optimizer and loss. */
const MODELS = [
  {
    // Bias-free same-padded convs, BatchNorm, ReLU, residual adds, global max-pool, rescaled head.
    name: 'resnet9',
    build: () => resnet9({ seed: 4, init: 'pytorch', bnMomentum: 0.9, bnEpsilon: 1e-3, widths: [4, 8, 8, 16] }),
    gradients: 9 + 2 * 8, // 8 conv kernels + the head; gamma and beta of 8 BatchNorms
    recipe: RESNET9_RECIPE,
  },
  {
    // A 2×2 valid stem with bias, pool-then-BatchNorm groups, a max-pool of 3, rescaled head.
    name: 'airbench',
    build: () => airbench({ seed: 4, init: 'pytorch', bnMomentum: 0.9, bnEpsilon: 1e-3, widths: [4, 8, 8, 16] }),
    gradients: 2 + 6 + 1 + 2 * 6, // the stem's kernel and bias, 6 conv kernels, the head; gamma and beta of 6 BatchNorms
    recipe: AIRBENCH_RECIPE,
  },
] as const satisfies readonly { name: string; build: () => tfl.LayersModel; gradients: number; recipe: unknown }[];

type ZooModel = (typeof MODELS)[number];

/** Loss, every gradient and the weights after one training step (BatchNorm's moving statistics move). */
async function oneStep(zoo: ZooModel, backend: 'onednn' | 'wasm' | 'cpu', weights: Float32Array[]) {
  await selectBackend({ backend, threads: 2 });
  const model = zoo.build();
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i]!.shape)));
  const batch = 4;
  const x = tf.tensor4d(
    seededValues(batch * 32 * 32 * 3, 3).map((v) => (v + 1) / 2),
    [batch, 32, 32, 3],
  );
  const labels = tf.oneHot(tf.tensor1d([1, 7, 3, 9], 'int32'), 10);
  return oneTrainingStep(model, x, labels, 0.2);
}

async function startWeights(zoo: ZooModel): Promise<Float32Array[]> {
  await selectBackend({ backend: 'cpu' });
  const m = zoo.build();
  const w = m.getWeights().map((t) => Float32Array.from(t.dataSync()));
  m.dispose();
  return w;
}

function expectSameStep(zoo: ZooModel, got: Awaited<ReturnType<typeof oneStep>>, cpu: Awaited<ReturnType<typeof oneStep>>) {
  expect(got.grads).toHaveLength(zoo.gradients);
  expect(Math.abs(got.loss - cpu.loss)).toBeLessThan(1e-5);
  got.grads.forEach((g, i) => {
    const scale = Math.max(1e-3, ...Array.from(cpu.grads[i]!, Math.abs));
    expect(maxAbsDiff(g, cpu.grads[i]!) / scale, `gradient ${i}`).toBeLessThan(1e-4);
  });
  got.weights.forEach((w, i) => expect(maxAbsDiff(w, cpu.weights[i]!), `weight ${i}`).toBeLessThan(1e-5));
}

describe.each(MODELS)('$name trains on every CPU backend', (zoo) => {
  it.skipIf(!addon.ok)(
    "onednn: the cpu backend's loss, gradients and BatchNorm statistics (float32 noise)",
    async () => {
      const start = await startWeights(zoo);
      expectSameStep(zoo, await oneStep(zoo, 'onednn', start), await oneStep(zoo, 'cpu', start));
    },
    120_000,
  );

  it("wasm: the cpu backend's loss, gradients and BatchNorm statistics (float32 noise)", async () => {
    const start = await startWeights(zoo);
    expectSameStep(zoo, await oneStep(zoo, 'wasm', start), await oneStep(zoo, 'cpu', start));
  }, 120_000);

  it.skipIf(!addon.ok)(
    "learns a fixed batch with its recipe's optimizer and loss on onednn, tf.memory() flat",
    async () => {
      await selectBackend({ backend: 'onednn', threads: 1 });
      const replica = new Replica(zoo.build(), { optimizer: zoo.recipe.optimizer, labelSmoothing: zoo.recipe.labelSmoothing });
      const { losses, tensorsLeft } = await fixedBatchLosses(replica, { n: 8, augment: { ...CROP_FLIP_AUGMENT, flip: false, cropPadding: 0 }, lr: 0.05 });
      expect(tensorsLeft).toBe(0);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!);
      replica.model.dispose();
    },
    120_000,
  );
});
