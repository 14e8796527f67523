import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '../errors/gradsync-error';
import { mixKeys } from '../random/index';
import { batchNormalization } from './batch-norm-layer';
import { dropout } from './dropout-layer';
import { conv2d } from './conv-layer';

export const MODEL_NAMES = ['seed-cnn', 'tiny-cnn', 'linear'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const INIT_SCHEMES = ['pytorch', 'keras'] as const;
/**
 * How kernels and biases start. 'keras' is the tutorial's literal default (glorot_uniform
 * kernels, zero biases); 'pytorch' is torch.nn's default (kaiming_uniform(a=√5) kernels and
 * biases, both U(±1/√fan_in)). Same network and data, measured with PyTorch here: after one
 * epoch 53% test accuracy with 'pytorch' against 39% with 'keras', whose larger last-layer
 * weights stall learning under Dropout(0.5) for the first few hundred steps.
 */
export type InitScheme = (typeof INIT_SCHEMES)[number];

export const IMAGE_SHAPE = [32, 32, 3] as const;
export const NUM_CLASSES = 10;

type LayerInit = {
  kernelInitializer: ReturnType<typeof tfl.initializers.glorotUniform>;
  biasInitializer?: ReturnType<typeof tfl.initializers.glorotUniform>;
};

/**
 * Initializers for one layer, seeded per layer (and per kernel/bias) so every process builds
 * the same weights. `fanIn` is what the bias bound of the PyTorch scheme needs.
 */
function layerInit(scheme: InitScheme, seed: number, layer: number, fanIn: number): LayerInit {
  const kernelSeed = mixKeys(seed, layer) % 2147483647;
  if (scheme === 'keras') return { kernelInitializer: tfl.initializers.glorotUniform({ seed: kernelSeed }) };
  // kaiming_uniform(a=√5): bound = √(6 / ((1 + a²)·fan_in)) = 1/√fan_in = varianceScaling(1/3, fanIn, uniform).
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: kernelSeed }),
    biasInitializer: tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: mixKeys(seed, layer, 1) % 2147483647 }),
  };
}

/** Keras' BatchNormalization momentum (the tutorial's): moving statistics keep 99% of their value each step. */
export const KERAS_BN_MOMENTUM = 0.99;

/**
 * The tutorial's network exactly (Keras defaults: valid padding, glorot_uniform kernels,
 * BatchNormalization momentum 0.99 / epsilon 1e-3). Inputs are RGB scaled to [0, 1];
 * the last layer gives logits.
 */
function seedCnn(seed: number, init: InitScheme, bnMomentum: number): tfl.Sequential {
  const at = (layer: number, fanIn: number) => layerInit(init, seed, layer, fanIn);
  return tfl.sequential({
    name: 'seed_cnn',
    layers: [
      conv2d({ inputShape: [...IMAGE_SHAPE], filters: 32, kernelSize: 3, activation: 'relu', ...at(1, 3 * 3 * 3) }),
      batchNormalization({ momentum: bnMomentum }),
      conv2d({ filters: 32, kernelSize: 3, activation: 'relu', ...at(2, 3 * 3 * 32) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      dropout({ rate: 0.25 }),
      conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...at(3, 3 * 3 * 32) }),
      batchNormalization({ momentum: bnMomentum }),
      conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...at(4, 3 * 3 * 64) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      dropout({ rate: 0.25 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu', ...at(5, 5 * 5 * 64) }),
      dropout({ rate: 0.5 }),
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

/** `bnMomentum` in Keras' convention (PyTorch's momentum m is Keras' 1 − m): only seed-cnn has BatchNorm. */
export function buildModel(name: string, seed: number, init: InitScheme = 'pytorch', bnMomentum = KERAS_BN_MOMENTUM): tfl.LayersModel {
  if (!(INIT_SCHEMES as readonly string[]).includes(init)) {
    throw new GradsyncError('E_MODEL', `unknown initialization "${init}"; choose one of ${INIT_SCHEMES.join(', ')}`);
  }
  switch (name) {
    case 'seed-cnn':
      return seedCnn(seed, init, bnMomentum);
    case 'tiny-cnn':
      return tinyCnn(seed, init);
    case 'linear':
      return linear(seed, init);
    default:
      throw new GradsyncError('E_MODEL', `unknown model "${name}"; choose one of ${MODEL_NAMES.join(', ')}`);
  }
}
