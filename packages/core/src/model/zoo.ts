import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '../errors/index';
import { mixKeys } from '../random/index';

export const MODEL_NAMES = ['seed-cnn', 'tiny-cnn', 'linear'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const IMAGE_SHAPE = [32, 32, 3] as const;
export const NUM_CLASSES = 10;

/** Keras' glorot_uniform default, seeded per layer so every process builds the same weights. */
function glorot(seed: number, layer: number) {
  return tfl.initializers.glorotUniform({ seed: mixKeys(seed, layer) % 2147483647 });
}

/**
 * The tutorial's network exactly (Keras defaults: valid padding, glorot_uniform kernels,
 * BatchNormalization momentum 0.99 / epsilon 1e-3). Inputs are RGB scaled to [0, 1];
 * the last layer gives logits.
 */
function seedCnn(seed: number): tfl.Sequential {
  return tfl.sequential({
    name: 'seed_cnn',
    layers: [
      tfl.layers.conv2d({ inputShape: [...IMAGE_SHAPE], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(seed, 1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(seed, 2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.25 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(seed, 3) }),
      tfl.layers.batchNormalization(),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(seed, 4) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.25 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu', kernelInitializer: glorot(seed, 5) }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: NUM_CLASSES, kernelInitializer: glorot(seed, 6) }),
    ],
  });
}

/** Small, BatchNorm- and Dropout-free: deterministic given the data, for invariance tests. */
function tinyCnn(seed: number): tfl.Sequential {
  return tfl.sequential({
    name: 'tiny_cnn',
    layers: [
      tfl.layers.conv2d({ inputShape: [...IMAGE_SHAPE], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: glorot(seed, 1) }),
      tfl.layers.maxPooling2d({ poolSize: 3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: NUM_CLASSES, kernelInitializer: glorot(seed, 2) }),
    ],
  });
}

/** Softmax regression on raw pixels: the cheapest model that still learns. */
function linear(seed: number): tfl.Sequential {
  return tfl.sequential({
    name: 'linear',
    layers: [
      tfl.layers.flatten({ inputShape: [...IMAGE_SHAPE] }),
      tfl.layers.dense({ units: NUM_CLASSES, kernelInitializer: glorot(seed, 1) }),
    ],
  });
}

export function buildModel(name: string, seed: number): tfl.LayersModel {
  switch (name) {
    case 'seed-cnn':
      return seedCnn(seed);
    case 'tiny-cnn':
      return tinyCnn(seed);
    case 'linear':
      return linear(seed);
    default:
      throw new GradsyncError('E_MODEL', `unknown model "${name}"; choose one of ${MODEL_NAMES.join(', ')}`);
  }
}
