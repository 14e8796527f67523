import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { batchNormalization } from './batch-norm-layer';
import { dropout } from './dropout-layer';
import { conv2d } from './conv-layer';
import { IMAGE_SHAPE, NUM_CLASSES } from './cifar-shape';
import { INIT_SCHEMES, type InitScheme, layerInit } from './layer-init';
import { resnet9 } from './resnet9';
import { airbench } from './airbench';

export const MODEL_NAMES = ['seed-cnn', 'resnet9', 'airbench', 'tiny-cnn', 'linear'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Keras' BatchNormalization momentum (the tutorial's): moving statistics keep 99% of their value each step. */
export const KERAS_BN_MOMENTUM = 0.99;
/** Keras' BatchNormalization epsilon (the tutorial's); PyTorch's BatchNorm2d uses 1e-5. */
export const KERAS_BN_EPSILON = 1e-3;

/** How the BatchNorm layers of a model keep and normalise their statistics. */
export interface BatchNormSettings {
  /** Keras' convention: the share of the moving statistics kept each step. */
  momentum: number;
  epsilon: number;
}

/** What a run may vary in a model beyond its name and seed. */
export interface ModelOptions {
  init?: InitScheme;
  /** Keras' convention (PyTorch's momentum m is Keras' 1 − m): for the models with BatchNorm (seed-cnn, resnet9, airbench). */
  bnMomentum?: number;
  bnEpsilon?: number;
  /** seed-cnn: its dropout rates (0.25, 0.25, 0.5) times this; 1 is the tutorial's, 0 none. */
  dropoutScale?: number;
  /** airbench: a frozen stem, to be set to the data's whitening (whitening.ts) before training. */
  whitenedStem?: boolean;
}

/**
 * The tutorial's network exactly (Keras defaults: valid padding, glorot_uniform kernels,
 * BatchNormalization momentum 0.99 / epsilon 1e-3). Inputs are RGB scaled to [0, 1];
 * the last layer gives logits.
 */
function seedCnn(seed: number, init: InitScheme, bn: BatchNormSettings, dropoutScale: number): tfl.Sequential {
  const at = (layer: number, fanIn: number) => layerInit(init, seed, layer, fanIn);
  return tfl.sequential({
    name: 'seed_cnn',
    layers: [
      conv2d({ inputShape: [...IMAGE_SHAPE], filters: 32, kernelSize: 3, activation: 'relu', ...at(1, 3 * 3 * 3) }),
      batchNormalization({ momentum: bn.momentum, epsilon: bn.epsilon }),
      conv2d({ filters: 32, kernelSize: 3, activation: 'relu', ...at(2, 3 * 3 * 32) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      dropout({ rate: 0.25 * dropoutScale }),
      conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...at(3, 3 * 3 * 32) }),
      batchNormalization({ momentum: bn.momentum, epsilon: bn.epsilon }),
      conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...at(4, 3 * 3 * 64) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      dropout({ rate: 0.25 * dropoutScale }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu', ...at(5, 5 * 5 * 64) }),
      dropout({ rate: 0.5 * dropoutScale }),
      tfl.layers.dense({ units: NUM_CLASSES, ...at(6, 64) }),
    ],
  });
}

/** Small, BatchNorm- and Dropout-free: deterministic given the data, for invariance tests. */
function tinyCnn(seed: number, init: InitScheme): tfl.Sequential {
  return tfl.sequential({
    name: 'tiny_cnn',
    layers: [
      tfl.layers.conv2d({ inputShape: [...IMAGE_SHAPE], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', ...layerInit(init, seed, 1, 3 * 3 * 3) }),
      tfl.layers.maxPooling2d({ poolSize: 3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: NUM_CLASSES, ...layerInit(init, seed, 2, 8 * 5 * 5) }),
    ],
  });
}

/** Softmax regression on raw pixels: the cheapest model that still learns. */
function linear(seed: number, init: InitScheme): tfl.Sequential {
  return tfl.sequential({
    name: 'linear',
    layers: [tfl.layers.flatten({ inputShape: [...IMAGE_SHAPE] }), tfl.layers.dense({ units: NUM_CLASSES, ...layerInit(init, seed, 1, 32 * 32 * 3) })],
  });
}

export function buildModel(name: string, seed: number, options: ModelOptions = {}): tfl.LayersModel {
  const { init = 'pytorch', bnMomentum = KERAS_BN_MOMENTUM, bnEpsilon = KERAS_BN_EPSILON, dropoutScale = 1 } = options;
  const bn: BatchNormSettings = { momentum: bnMomentum, epsilon: bnEpsilon };
  if (!(INIT_SCHEMES as readonly string[]).includes(init)) {
    throw new GradsyncError('E_MODEL', `unknown initialization "${init}"; choose one of ${INIT_SCHEMES.join(', ')}`);
  }
  if (options.whitenedStem && name !== 'airbench') throw new GradsyncError('E_MODEL', `a whitened stem is airbench's; model "${name}" has none`);
  switch (name) {
    case 'seed-cnn':
      return seedCnn(seed, init, bn, dropoutScale);
    case 'resnet9':
      return resnet9({ seed, init, bnMomentum, bnEpsilon });
    case 'airbench':
      return airbench({ seed, init, bnMomentum, bnEpsilon, whitenedStem: options.whitenedStem ?? false });
    case 'tiny-cnn':
      return tinyCnn(seed, init);
    case 'linear':
      return linear(seed, init);
    default:
      throw new GradsyncError('E_MODEL', `unknown model "${name}"; choose one of ${MODEL_NAMES.join(', ')}`);
  }
}
