import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization } from './batch-norm-layer';
import { conv2d } from './conv-layer';
import { IMAGE_SHAPE, NUM_CLASSES } from './cifar-shape';
import { type InitScheme, layerInit } from './layer-init';

/** Channels of the prep layer and of layers 1-3 (Page's ResNet-9). */
export const RESNET9_WIDTHS = [64, 128, 256, 512] as const;

/** Page scales the logits by 1/8: the head then learns at a pace matching the BatchNorm'd body. */
const LOGIT_SCALE = 0.125;

export interface ResNet9Options {
  seed: number;
  init: InitScheme;
  bnMomentum: number;
  bnEpsilon: number;
  /** Narrower copies exercise the same layers cheaply (tests). */
  widths?: readonly [number, number, number, number];
}

/**
 * David Page's ResNet-9 ("How to train your ResNet"; airbench descends from it): every block is
 * conv 3×3 (same padding, no bias) → BatchNorm → ReLU, 6.6 M weights.
 *   prep 64 · layer1 128 + max-pool + residual(2 blocks) · layer2 256 + max-pool ·
 *   layer3 512 + max-pool + residual(2 blocks) · global max-pool · linear (no bias) × 1/8
 * The residual adds need the functional API. Inputs are RGB in [0, 1]; the output is logits.
 */
export function resnet9(options: ResNet9Options): tfl.LayersModel {
  const { seed, init, bnMomentum, bnEpsilon } = options;
  const [prep, w1, w2, w3] = options.widths ?? RESNET9_WIDTHS;
  let layerIndex = 0;
  const block = (x: tfl.SymbolicTensor, inChannels: number, filters: number): tfl.SymbolicTensor => {
    layerIndex += 1;
    const conv = conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, ...layerInit(init, seed, layerIndex, 9 * inChannels) });
    const bn = batchNormalization({ momentum: bnMomentum, epsilon: bnEpsilon });
    return tfl.layers.reLU().apply(bn.apply(conv.apply(x))) as tfl.SymbolicTensor;
  };
  const pool = (x: tfl.SymbolicTensor) => tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  const residual = (x: tfl.SymbolicTensor, channels: number) =>
    tfl.layers.add().apply([x, block(block(x, channels, channels), channels, channels)]) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [...IMAGE_SHAPE] });
  let x = block(input, IMAGE_SHAPE[2], prep);
  x = residual(pool(block(x, prep, w1)), w1);
  x = pool(block(x, w1, w2));
  x = residual(pool(block(x, w2, w3)), w3);
  x = tfl.layers.globalMaxPooling2d({}).apply(x) as tfl.SymbolicTensor;
  layerIndex += 1;
  x = tfl.layers.dense({ units: NUM_CLASSES, useBias: false, ...layerInit(init, seed, layerIndex, w3) }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.rescaling({ scale: LOGIT_SCALE }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: 'resnet9', inputs: input, outputs: logits });
}
