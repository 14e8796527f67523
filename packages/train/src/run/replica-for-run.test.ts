import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AIRBENCH_RECIPE, SEED_RECIPE } from '../config/recipes';
import { buildModel } from '../model/zoo';
import { KERAS_ADAM, PYTORCH_ADAM } from '../training/adam';
import type { Replica } from '../training/replica';
import { replicaForRun } from './replica-for-run';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const made: Replica[] = [];
afterEach(() => made.splice(0).forEach((r) => r.model.dispose()));

function replica(conventions: 'keras' | 'pytorch'): Replica {
  const r = replicaForRun({ ...SEED_RECIPE, conventions });
  made.push(r);
  return r;
}

const batchNormEpsilons = (model: tfl.LayersModel) =>
  model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig()['epsilon']);

describe('replicaForRun: the conventions reach the model and the optimizer', () => {
  it("keras: BatchNorm epsilon 1e-3 and Keras' Adam; pytorch: 1e-5 and PyTorch's Adam", () => {
    const keras = replica('keras');
    expect(batchNormEpsilons(keras.model)).toEqual([1e-3, 1e-3]);
    expect(keras.options.adam).toEqual(KERAS_ADAM);
    const torch = replica('pytorch');
    expect(batchNormEpsilons(torch.model)).toEqual([1e-5, 1e-5]);
    expect(torch.options.adam).toEqual(PYTORCH_ADAM);
  });

  it('resnet9 takes the epsilon too', () => {
    const model = buildModel('resnet9', 1, { bnMomentum: 0.9, bnEpsilon: 1e-5 });
    const eps = batchNormEpsilons(model);
    model.dispose();
    expect(eps.length).toBeGreaterThan(5);
    expect(new Set(eps)).toEqual(new Set([1e-5]));
  });

  it("airbench: its model, and the preset's test-time flip reaches evaluation", () => {
    const r = replicaForRun(AIRBENCH_RECIPE);
    made.push(r);
    expect(r.model.name).toBe('airbench');
    expect(r.options.testTimeFlip).toBe(true);
    expect(replica('keras').options.testTimeFlip).toBe(false);
  });
});
