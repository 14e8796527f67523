import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { batchNormalization } from './batch-norm-layer';
import { dropout } from './dropout-layer';
import { conv2d } from './conv-layer';
import { IMAGE_SHAPE, type ModelShape, NUM_CLASSES } from './model-shape';
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
  /** The data's image shape and class count (default CIFAR-10's 32×32×3, 10 classes). */
  shape?: ModelShape;
}

/** Units a layer's output feeds the next with, per image (the dense layer's fan-in). */
function unitsOut(model: tfl.Sequential): number {
  return model.outputs[0].shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
}

/**
 * The tutorial's network exactly (Keras defaults: valid padding, glorot_uniform kernels,
 * BatchNormalization momentum 0.99 / epsilon 1e-3). Inputs are RGB scaled to [0, 1];
 * the last layer gives logits.
 */
function seedCnn(seed: number, init: InitScheme, bn: BatchNormSettings, dropoutScale: number, shape: ModelShape): tfl.Sequential {
  const at = (layer: number, fanIn: number) => layerInit(init, seed, layer, fanIn);
  const channels = shape.inputShape[2];
  const model = tfl.sequential({ name: 'seed_cnn' });
  [
    conv2d({ inputShape: [...shape.inputShape], filters: 32, kernelSize: 3, activation: 'relu', ...at(1, 3 * 3 * channels) }),
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
  ].forEach((layer) => model.add(layer));
  // 5 × 5 × 64 for CIFAR's 32 × 32; read from the model for any other size.
  model.add(tfl.layers.dense({ units: 64, activation: 'relu', ...at(5, unitsOut(model)) }));
  model.add(dropout({ rate: 0.5 * dropoutScale }));
  model.add(tfl.layers.dense({ units: shape.numClasses, ...at(6, 64) }));
  return model;
}

/** Small, BatchNorm- and Dropout-free: deterministic given the data, for invariance tests. */
function tinyCnn(seed: number, init: InitScheme, shape: ModelShape): tfl.Sequential {
  const model = tfl.sequential({ name: 'tiny_cnn' });
  const channels = shape.inputShape[2];
  model.add(
    tfl.layers.conv2d({
      inputShape: [...shape.inputShape],
      filters: 8,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      ...layerInit(init, seed, 1, 3 * 3 * channels),
    }),
  );
  model.add(tfl.layers.maxPooling2d({ poolSize: 3 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: shape.numClasses, ...layerInit(init, seed, 2, unitsOut(model)) }));
  return model;
}

/** Softmax regression on raw pixels: the cheapest model that still learns. */
function linear(seed: number, init: InitScheme, shape: ModelShape): tfl.Sequential {
  const model = tfl.sequential({ name: 'linear' });
  model.add(tfl.layers.flatten({ inputShape: [...shape.inputShape] }));
  model.add(tfl.layers.dense({ units: shape.numClasses, ...layerInit(init, seed, 1, unitsOut(model)) }));
  return model;
}

export function buildModel(name: string, seed: number, options: ModelOptions = {}): tfl.LayersModel {
  const { init = 'pytorch', bnMomentum = KERAS_BN_MOMENTUM, bnEpsilon = KERAS_BN_EPSILON, dropoutScale = 1 } = options;
  const bn: BatchNormSettings = { momentum: bnMomentum, epsilon: bnEpsilon };
  const shape = options.shape ?? { inputShape: IMAGE_SHAPE, numClasses: NUM_CLASSES };
  checkShape(name, shape);
  if (!(INIT_SCHEMES as readonly string[]).includes(init)) {
    throw new GradsyncError('E_MODEL', `unknown initialization "${init}"; choose one of ${INIT_SCHEMES.join(', ')}`);
  }
  if (options.whitenedStem && name !== 'airbench') throw new GradsyncError('E_MODEL', `a whitened stem is airbench's; model "${name}" has none`);
  try {
    return buildByName(name, seed, init, bn, dropoutScale, shape, options.whitenedStem ?? false);
  } catch (e) {
    if (e instanceof GradsyncError) throw e;
    // tfjs-layers refuses a layer whose output would be empty: the images are too small for this network.
    throw new GradsyncError(
      'E_MODEL',
      `model "${name}" cannot take ${shape.inputShape.join('×')} images (${(e as Error).message}); give it larger images (--image-size) or choose a smaller model`,
    );
  }
}

function checkShape(name: string, shape: ModelShape): void {
  const [h, w, c] = shape.inputShape;
  if (![h, w, c].every((d) => Number.isInteger(d) && d > 0))
    throw new GradsyncError('E_MODEL', `model "${name}": image shape ${shape.inputShape.join('×')} must be three positive integers`);
  if (!Number.isInteger(shape.numClasses) || shape.numClasses < 2)
    throw new GradsyncError('E_MODEL', `model "${name}": ${shape.numClasses} classes; a classifier needs 2 or more`);
}

function buildByName(
  name: string,
  seed: number,
  init: InitScheme,
  bn: BatchNormSettings,
  dropoutScale: number,
  shape: ModelShape,
  whitenedStem: boolean,
): tfl.LayersModel {
  switch (name) {
    case 'seed-cnn':
      return seedCnn(seed, init, bn, dropoutScale, shape);
    case 'resnet9':
      return resnet9({ seed, init, bnMomentum: bn.momentum, bnEpsilon: bn.epsilon, shape });
    case 'airbench':
      return airbench({ seed, init, bnMomentum: bn.momentum, bnEpsilon: bn.epsilon, whitenedStem, shape });
    case 'tiny-cnn':
      return tinyCnn(seed, init, shape);
    case 'linear':
      return linear(seed, init, shape);
    default:
      throw new GradsyncError('E_MODEL', `unknown model "${name}"; choose one of ${MODEL_NAMES.join(', ')}`);
  }
}
