import * as tfl from '@tensorflow/tfjs-layers';
import { conv2d } from './conv-layer';
import { IMAGE_SHAPE, NUM_CLASSES } from './model-shape';
import { graphBlocks, type GraphModelOptions } from './graph-blocks';
import { startConvsAsIdentity } from './identity-init';

/** Channels of the 2×2 stem and of the three conv groups (airbench94's). */
export const AIRBENCH_WIDTHS = [24, 64, 256, 256] as const;

/** airbench scales the logits by 1/9, as Page's 1/8: the head learns at the pace of the BatchNorm'd body. */
const LOGIT_SCALE = 1 / 9;

/**
 * Keller Jordan's airbench94 network, without residuals: a third of ResNet-9's work per image
 * (0.24 GFLOP forward against 0.76), which is what a 2-core machine can train to 90%+ in hours.
 *   stem: conv 2×2 (valid, bias) 24 → ReLU (31×31)
 *   3 groups: conv 3×3 → max-pool 2 → BatchNorm → ReLU → conv 3×3 → BatchNorm → ReLU (64, 256, 256)
 *   max-pool 3 → linear (no bias) × 1/9
 * Every 3×3 conv starts with airbench's identity filters (identity-init.ts). With `whitenedStem` the
 * stem is frozen, for the caller to set to the data's whitening (whitening.ts, airbench's); without,
 * it learns from its random init. airbench's activations are GELU; here ReLU (the native backend
 * fuses it with BatchNorm and with the stem's conv).
 * Inputs are RGB in [0, 1]; the output is logits.
 */
export function airbench(options: GraphModelOptions): tfl.LayersModel {
  const [stem, w1, w2, w3] = options.widths ?? AIRBENCH_WIDTHS;
  const { conv3x3, bnRelu, maxPool, nextInit, apply } = graphBlocks(options);
  const { inputShape, numClasses } = options.shape ?? { inputShape: IMAGE_SHAPE, numClasses: NUM_CLASSES };
  const group = (x: tfl.SymbolicTensor, inChannels: number, filters: number) =>
    bnRelu(conv3x3(bnRelu(maxPool(conv3x3(x, inChannels, filters))), filters, filters));

  const input = tfl.input({ shape: [...inputShape] });
  // Frozen, the stem's weights are state like BatchNorm's statistics (weight-layout.ts); whitenStem writes them.
  const trainable = !options.whitenedStem;
  let x = apply(conv2d({ filters: stem, kernelSize: 2, padding: 'valid', activation: 'relu', trainable, ...nextInit(4 * inputShape[2]) }), input);
  x = group(x, stem, w1);
  x = group(x, w1, w2);
  x = group(x, w2, w3);
  x = apply(tfl.layers.flatten(), maxPool(x, 3));
  // w3 for CIFAR's 32 × 32 (the last pool leaves 1 × 1); larger images leave more.
  const features = x.shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  x = apply(tfl.layers.dense({ units: numClasses, useBias: false, ...nextInit(features) }), x);
  const logits = apply(tfl.layers.rescaling({ scale: LOGIT_SCALE }), x);
  const model = tfl.model({ name: 'airbench', inputs: input, outputs: logits });
  startConvsAsIdentity(model);
  return model;
}
