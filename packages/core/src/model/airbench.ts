import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization } from './batch-norm-layer';
import { conv2d } from './conv-layer';
import { IMAGE_SHAPE, NUM_CLASSES } from './cifar-shape';
import { type InitScheme, layerInit } from './layer-init';

/** Channels of the 2×2 stem and of the three conv groups (airbench94's). */
export const AIRBENCH_WIDTHS = [24, 64, 256, 256] as const;

/** airbench scales the logits by 1/9, as Page's 1/8: the head learns at the pace of the BatchNorm'd body. */
const LOGIT_SCALE = 1 / 9;

export interface AirbenchOptions {
  seed: number;
  init: InitScheme;
  bnMomentum: number;
  bnEpsilon: number;
  /** Narrower copies exercise the same layers cheaply (tests). */
  widths?: readonly [number, number, number, number];
}

/**
 * Keller Jordan's airbench94 network, without residuals: a third of ResNet-9's work per image
 * (0.24 GFLOP forward against 0.76), which is what a 2-core machine can train to 90%+ in hours.
 *   stem: conv 2×2 (valid, bias) 24 → ReLU (31×31)
 *   3 groups: conv 3×3 → max-pool 2 → BatchNorm → ReLU → conv 3×3 → BatchNorm → ReLU (64, 256, 256)
 *   max-pool 3 → linear (no bias) × 1/9
 * airbench's stem is frozen at the data's whitening transform and its activations are GELU; here the
 * stem learns from its init and the activation is ReLU (the native backend fuses it with BatchNorm).
 * Inputs are RGB in [0, 1]; the output is logits.
 */
export function airbench(options: AirbenchOptions): tfl.LayersModel {
  const { seed, init, bnMomentum, bnEpsilon } = options;
  const [stem, w1, w2, w3] = options.widths ?? AIRBENCH_WIDTHS;
  let layerIndex = 0;
  const conv = (x: tfl.SymbolicTensor, inChannels: number, filters: number) => {
    layerIndex += 1;
    const layer = conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, ...layerInit(init, seed, layerIndex, 9 * inChannels) });
    return layer.apply(x) as tfl.SymbolicTensor;
  };
  const bnRelu = (x: tfl.SymbolicTensor) =>
    tfl.layers.reLU().apply(batchNormalization({ momentum: bnMomentum, epsilon: bnEpsilon }).apply(x)) as tfl.SymbolicTensor;
  const group = (x: tfl.SymbolicTensor, inChannels: number, filters: number) => {
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(conv(x, inChannels, filters)) as tfl.SymbolicTensor;
    return bnRelu(conv(bnRelu(pooled), filters, filters));
  };

  const input = tfl.input({ shape: [...IMAGE_SHAPE] });
  layerIndex += 1;
  const stemConv = conv2d({ filters: stem, kernelSize: 2, padding: 'valid', activation: 'relu', ...layerInit(init, seed, layerIndex, 4 * IMAGE_SHAPE[2]) });
  let x = stemConv.apply(input) as tfl.SymbolicTensor;
  x = group(x, stem, w1);
  x = group(x, w1, w2);
  x = group(x, w2, w3);
  x = tfl.layers.maxPooling2d({ poolSize: 3 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  layerIndex += 1;
  x = tfl.layers.dense({ units: NUM_CLASSES, useBias: false, ...layerInit(init, seed, layerIndex, w3) }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.rescaling({ scale: LOGIT_SCALE }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ name: 'airbench', inputs: input, outputs: logits });
}
