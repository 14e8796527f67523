import { GradsyncError } from '@gradsync/core';
import { type ModelShape, modelShape } from '@gradsync/train';
import { loadLayersModel } from '@gradsync/train/node';

/** A model folder a training run exported (runs/<name>/model), checked to be an image classifier; with the shape it takes. */
export async function loadExportedModel(dir: string): Promise<Awaited<ReturnType<typeof loadLayersModel>> & { shape: ModelShape }> {
  const loaded = await loadLayersModel(dir);
  try {
    return { ...loaded, shape: modelShape(loaded.model) };
  } catch (e) {
    loaded.model.dispose();
    throw new GradsyncError('E_MODEL_FILE', `${dir}: ${(e as Error).message}`);
  }
}
