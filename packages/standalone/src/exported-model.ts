import { GradsyncError } from '@gradsync/core';
import { loadLayersModel } from '@gradsync/train/node';

/** A model folder a training run exported (runs/<name>/model), checked to take 32×32 RGB images. */
export async function loadExportedModel(dir: string): ReturnType<typeof loadLayersModel> {
  const loaded = await loadLayersModel(dir);
  const inputShape = loaded.model.inputs[0].shape;
  if (inputShape[1] !== 32 || inputShape[2] !== 32 || inputShape[3] !== 3) {
    loaded.model.dispose();
    throw new GradsyncError('E_MODEL_FILE', `model expects input ${JSON.stringify(inputShape)}, not 32x32 RGB`);
  }
  return loaded;
}
