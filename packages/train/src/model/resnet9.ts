import * as tfl from '@tensorflow/tfjs-layers';
import { IMAGE_SHAPE, NUM_CLASSES } from './model-shape';
import { graphBlocks, type GraphModelOptions } from './graph-blocks';

/** Channels of the prep layer and of layers 1-3 (Page's ResNet-9). */
export const RESNET9_WIDTHS = [64, 128, 256, 512] as const;

/** Page scales the logits by 1/8: the head then learns at a pace matching the BatchNorm'd body. */
const LOGIT_SCALE = 0.125;

/**
 * David Page's ResNet-9 ("How to train your ResNet"; airbench descends from it): every block is
 * conv 3×3 (same padding, no bias) → BatchNorm → ReLU, 6.6 M weights.
 *   prep 64 · layer1 128 + max-pool + residual(2 blocks) · layer2 256 + max-pool ·
 *   layer3 512 + max-pool + residual(2 blocks) · global max-pool · linear (no bias) × 1/8
 * The residual adds need the functional API. Inputs are RGB in [0, 1]; the output is logits.
 */
export function resnet9(options: GraphModelOptions): tfl.LayersModel {
  const [prep, w1, w2, w3] = options.widths ?? RESNET9_WIDTHS;
  const { conv3x3, bnRelu, maxPool, nextInit, apply } = graphBlocks(options);
  const { inputShape, numClasses } = options.shape ?? { inputShape: IMAGE_SHAPE, numClasses: NUM_CLASSES };
  const block = (x: tfl.SymbolicTensor, inChannels: number, filters: number) => bnRelu(conv3x3(x, inChannels, filters));
  const residual = (x: tfl.SymbolicTensor, channels: number) =>
    tfl.layers.add().apply([x, block(block(x, channels, channels), channels, channels)]) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [...inputShape] });
  let x = block(input, inputShape[2], prep);
  x = residual(maxPool(block(x, prep, w1)), w1);
  x = maxPool(block(x, w1, w2));
  x = residual(maxPool(block(x, w2, w3)), w3);
  x = apply(tfl.layers.globalMaxPooling2d({}), x);
  x = apply(tfl.layers.dense({ units: numClasses, useBias: false, ...nextInit(w3) }), x);
  const logits = apply(tfl.layers.rescaling({ scale: LOGIT_SCALE }), x);
  return tfl.model({ name: 'resnet9', inputs: input, outputs: logits });
}
