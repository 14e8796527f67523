import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface WeightSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  variable: tf.Variable;
}

/**
 * A model's weights as two flat vectors: trainable parameters (the gradient's order) and
 * non-trainable state (BatchNorm moving mean/variance). The order is the model's layer order,
 * which is the same in every process that builds the same architecture.
 */
export interface WeightLayout {
  trainable: WeightSlot[];
  state: WeightSlot[];
  trainableSize: number;
  stateSize: number;
}

function slots(weights: tfl.LayerVariable[]): { slots: WeightSlot[]; size: number } {
  let offset = 0;
  const out = weights.map((w) => {
    const size = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const slot: WeightSlot = { name: w.originalName, shape: w.shape as number[], offset, size, variable: w.read() as tf.Variable };
    offset += size;
    return slot;
  });
  return { slots: out, size: offset };
}

export function weightLayout(model: tfl.LayersModel): WeightLayout {
  const trainable = slots(model.trainableWeights);
  const state = slots(model.nonTrainableWeights);
  return { trainable: trainable.slots, state: state.slots, trainableSize: trainable.size, stateSize: state.size };
}
