import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from './select-backend';
import { maxAbsDiff, seededValues } from '@gradsync/backend-wasm/node';
import { oneTrainingStep } from '@gradsync/testing';

// One training step of a small network with every layer type of the seed CNN, on wasm (with this
// folder's kernels and gradients) and on cpu: same loss, same gradients.
function buildNet(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.25, seed: 7 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5 }),
    ],
  });
}

async function gradientsOn(backend: 'wasm' | 'cpu', weights: Float32Array[] | null) {
  await selectBackend({ backend });
  const model = buildNet();
  if (weights != null) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i]!.shape)));
  const x = tf.tensor4d(seededValues(4 * 12 * 12 * 3, 1), [4, 12, 12, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 4], 'int32'), 5);
  return oneTrainingStep(model, x, labels);
}

describe('a training step on wasm', () => {
  it('matches the cpu backend', async () => {
    const wasm = await gradientsOn('wasm', null);
    const cpu = await gradientsOn('cpu', wasm.weights);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4);
    wasm.grads.forEach((g, i) => {
      const scale = Math.max(1, ...Array.from(cpu.grads[i]!, Math.abs));
      expect(maxAbsDiff(g, cpu.grads[i]!) / scale).toBeLessThan(1e-4);
    });
  });
});
