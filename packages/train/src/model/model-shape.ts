import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';

/** An image's height, width and channels (HWC), as a model's input takes it. */
export type ImageShapeTuple = readonly [height: number, width: number, channels: number];

/** One CIFAR image (height, width, RGB) and CIFAR-10's classes: the zoo's defaults. */
export const IMAGE_SHAPE: ImageShapeTuple = [32, 32, 3];
export const NUM_CLASSES = 10;

/** What a classifier takes and gives: images of one shape in, one logit per class out. */
export interface ModelShape {
  inputShape: ImageShapeTuple;
  numClasses: number;
}

/**
 * Reads a model's shape from the model itself, so training and evaluation follow whatever the
 * model takes (zoo, model.json or a user's module) instead of a constant. Throws, naming what is
 * wrong, when the model is not an image classifier with one logits output.
 */
export function modelShape(model: tfl.LayersModel): ModelShape {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new GradsyncError(
      'E_MODEL',
      `model "${model.name}" has ${model.inputs.length} inputs and ${model.outputs.length} outputs; a classifier here has one of each`,
    );
  }
  const input = model.inputs[0].shape;
  const output = model.outputs[0].shape;
  if (input.length !== 4 || !input.slice(1).every((d) => typeof d === 'number' && d > 0)) {
    throw new GradsyncError('E_MODEL', `model "${model.name}" takes input ${JSON.stringify(input)}; it must take images [batch, height, width, channels]`);
  }
  if (output.length !== 2 || typeof output[1] !== 'number' || output[1] < 2) {
    throw new GradsyncError(
      'E_MODEL',
      `model "${model.name}" gives output ${JSON.stringify(output)}; it must give [batch, classes] logits for 2 or more classes`,
    );
  }
  return { inputShape: [input[1]!, input[2]!, input[3]!], numClasses: output[1] };
}

/** Checks a model against the data it will train on, naming both shapes when they differ. */
export function checkModelFitsData(model: tfl.LayersModel, data: ModelShape): void {
  const shape = modelShape(model);
  if (shape.inputShape.join('x') !== data.inputShape.join('x')) {
    throw new GradsyncError('E_MODEL', `model "${model.name}" takes ${shape.inputShape.join('×')} images but the data's are ${data.inputShape.join('×')}`);
  }
  if (shape.numClasses !== data.numClasses) {
    throw new GradsyncError('E_MODEL', `model "${model.name}" gives ${shape.numClasses} logits but the data has ${data.numClasses} classes`);
  }
}
