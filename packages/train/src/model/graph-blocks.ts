import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization } from './batch-norm-layer';
import { conv2d } from './conv-layer';
import { type InitScheme, layerInit } from './layer-init';
import type { ModelShape } from './model-shape';

/** What the functional-API models of the zoo (resnet9, airbench) are built from. */
export interface GraphModelOptions {
  seed: number;
  init: InitScheme;
  /** Keras' convention. */
  bnMomentum: number;
  bnEpsilon: number;
  /** Narrower copies exercise the same layers cheaply (tests). */
  widths?: readonly [number, number, number, number];
  /** airbench: the stem is frozen (not trained), to be set to the data's whitening (whitening.ts). */
  whitenedStem?: boolean;
  /** The data's image shape and class count (default CIFAR-10's). */
  shape?: ModelShape;
}

/**
 * The building blocks of those models, numbering their weighted layers in the order they are made
 * so that each layer's initial weights depend on (seed, its number) alone.
 */
export function graphBlocks(options: GraphModelOptions) {
  const { seed, init, bnMomentum, bnEpsilon } = options;
  let layerIndex = 0;
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor) => layer.apply(x) as tfl.SymbolicTensor;
  /** The next layer's initializers (fanIn for the PyTorch scheme's bounds). */
  const nextInit = (fanIn: number) => layerInit(init, seed, ++layerIndex, fanIn);
  return {
    nextInit,
    /** conv 3×3, same padding, no bias (BatchNorm follows). */
    conv3x3: (x: tfl.SymbolicTensor, inChannels: number, filters: number) =>
      apply(conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, ...nextInit(9 * inChannels) }), x),
    bnRelu: (x: tfl.SymbolicTensor) => apply(tfl.layers.reLU(), apply(batchNormalization({ momentum: bnMomentum, epsilon: bnEpsilon }), x)),
    maxPool: (x: tfl.SymbolicTensor, size = 2) => apply(tfl.layers.maxPooling2d({ poolSize: size }), x),
    apply,
  };
}
