import { afterAll, describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildModel, Replica } from '@gradsync/train';
import { mulberry32 } from '@gradsync/core';
import { maxAbsDiff } from '@gradsync/backend-wasm/node';
import { selectBackend } from './index';
import type { BackendSelection } from './index';
import { releaseWebGpuBackend } from '@gradsync/backend-webgpu';

/**
 * Training on the webgpu backend gives the numbers wasm gives. Runs on whatever adapter
 * `--backend webgpu` finds: a GPU through Vulkan, or, on a machine without one, Mesa's llvmpipe
 * through Dawn's OpenGL ES path (EGL_PLATFORM=surfaceless; about 5 s a step of 8 for seed-cnn).
 * Skipped, saying why, when no adapter can be had and CI is unset; in CI it must run.
 *
 * Deterministic by construction: the same starting weights (copied), the same bytes, no
 * augmentation, and seed-cnn's Dropout layers set to rate 0 (tfjs-layers then passes the input
 * through), so BatchNorm's batch statistics, the convolutions, max pooling and their gradients are
 * all compared. Tolerance (float32, different summation orders): loss within 1e-4 relative,
 * gradients within 1e-3 of the largest gradient of their tensor.
 */
const LOSS_TOL = 1e-4;
const GRAD_TOL = 1e-3;
const BATCH = 8;

const probe: { selection: BackendSelection } | { why: string } = await selectBackend({ backend: 'webgpu' }).then(
  (selection) => ({ selection }),
  (err: unknown) => ({ why: (err as Error).message }),
);
const unavailable = 'why' in probe ? probe.why : null;
const skip = unavailable != null && !process.env.CI;
// Mesa's EGL/GLES with llvmpipe is what lets it run on a machine without a GPU (see .ci/run).
if (skip) {
  noteSkip({
    suite: 'webgpu training (packages/backends/src/webgpu-training.test.ts)',
    why: `no WebGPU adapter here: ${unavailable}`,
    apt: ['libegl1', 'libegl-mesa0', 'libgles2', 'libgl1-mesa-dri'],
  });
}
const title = skip
  ? `webgpu training (skipped: no WebGPU adapter here and CI unset: ${unavailable})`
  : `webgpu training on ${'selection' in probe ? probe.selection.device : 'no adapter'}`;

function fixedBatch(n: number, seed: number) {
  const rnd = mulberry32(seed);
  return {
    images: new Uint8Array(n * 3072).map(() => Math.floor(rnd() * 256)),
    labels: new Uint8Array(n).map(() => Math.floor(rnd() * 10)),
  };
}

function withoutDropout(model: tfl.LayersModel): tfl.LayersModel {
  for (const layer of model.layers) if (layer.getClassName() === 'Dropout') (layer as unknown as { rate: number }).rate = 0;
  return model;
}

interface Trace {
  losses: number[];
  buffers: Float32Array[];
  evalLossSum: number;
  probabilities: Float32Array;
}

/** `steps` training steps of batch 8 (gradient + BatchNorm state buffer, Adam in JS), then an evaluation. */
async function train(backend: 'webgpu' | 'wasm', model: string, steps: number, start: Replica): Promise<{ trace: Trace; replica: Replica }> {
  await selectBackend({ backend });
  const replica = new Replica(withoutDropout(buildModel(model, 11)));
  replica.setState(start.getState());
  const trace: Trace = { losses: [], buffers: [], evalLossSum: 0, probabilities: new Float32Array() };
  for (let step = 0; step < steps; step++) {
    const out = await replica.computeStep({ ...fixedBatch(BATCH, 100 + step), augment: null });
    trace.losses.push(out.loss);
    trace.buffers.push(out.buffer.slice());
    replica.applySummed(out.buffer, out.count, 1e-3);
  }
  const held = fixedBatch(BATCH, 999);
  trace.evalLossSum = (await replica.evaluate(held.images, held.labels)).lossSum;
  trace.probabilities = await replica.predictProbabilities(held.images, BATCH);
  return { trace, replica };
}

/** Compares two traces slot by slot of the packed buffer (each weight's gradient, each BN statistic). */
function expectSameTraining(webgpu: Trace, wasm: Trace, replica: Replica) {
  webgpu.losses.forEach((loss, i) => expect(Math.abs(loss - wasm.losses[i]!) / Math.max(1, Math.abs(wasm.losses[i]!))).toBeLessThan(LOSS_TOL));
  const slots = [...replica.layout.trainable, ...replica.layout.state.map((s) => ({ ...s, offset: s.offset + replica.layout.trainableSize }))];
  webgpu.buffers.forEach((buffer, step) => {
    for (const slot of slots) {
      const a = buffer.subarray(slot.offset, slot.offset + slot.size);
      const b = wasm.buffers[step]!.subarray(slot.offset, slot.offset + slot.size);
      const scale = Math.max(
        1e-6,
        b.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      );
      expect(maxAbsDiff(a, b) / scale, `step ${step}, ${slot.variable.name}`).toBeLessThan(GRAD_TOL);
    }
  });
  expect(Math.abs(webgpu.evalLossSum - wasm.evalLossSum) / Math.max(1, Math.abs(wasm.evalLossSum))).toBeLessThan(LOSS_TOL);
  expect(maxAbsDiff(webgpu.probabilities, wasm.probabilities)).toBeLessThan(1e-4);
}

afterAll(() => releaseWebGpuBackend());

describe.skipIf(skip)(title, () => {
  it('selects webgpu and names the adapter', () => {
    if (unavailable != null) throw new Error(`CI is set, so the webgpu backend must load here: ${unavailable}`);
    const { selection } = probe as { selection: BackendSelection };
    expect(selection.name).toBe('webgpu');
    expect(selection.summary).toMatch(/^TensorFlow\.js backend webgpu on .*WebGPU\/(Vulkan|OpenGL ES)/);
    expect(selection.softwareRasteriser).toBe(/^CPU \(software rasteriser /.test(selection.device));
  });

  it('tiny-cnn: 3 steps of batch 8 give the losses, gradients and evaluation wasm gives', { timeout: 120_000 }, async () => {
    const start = await startOf('tiny-cnn');
    const webgpu = await train('webgpu', 'tiny-cnn', 3, start);
    const wasm = await train('wasm', 'tiny-cnn', 3, start);
    expectSameTraining(webgpu.trace, wasm.trace, wasm.replica);
    dispose(start, webgpu.replica, wasm.replica);
  });

  it('seed-cnn (dropout off): 2 steps of batch 8, every gradient and BatchNorm statistic as on wasm', { timeout: 300_000 }, async () => {
    const start = await startOf('seed-cnn');
    const webgpu = await train('webgpu', 'seed-cnn', 2, start);
    const wasm = await train('wasm', 'seed-cnn', 2, start);
    expectSameTraining(webgpu.trace, wasm.trace, wasm.replica);
    expect(webgpu.trace.losses[1]).not.toBe(webgpu.trace.losses[0]);
    dispose(start, webgpu.replica, wasm.replica);
  });
});

/** Starting weights, built once on wasm and copied into each replica. */
async function startOf(model: string): Promise<Replica> {
  await selectBackend({ backend: 'wasm' });
  return new Replica(buildModel(model, 11));
}

function dispose(...replicas: Replica[]) {
  for (const r of replicas) r.model.dispose();
  tf.disposeVariables();
}
