import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { SeedBatchNormalization } from './batch-norm-layer';
import { SeedConv2D } from './conv-layer';
import { SeedDropout } from './dropout-layer';
import { checkModelFitsData, type ModelShape } from './model-shape';
import { MODEL_NAMES, type ModelName } from './zoo';

/** A tfjs Layers topology: what `model.toJSON(null, false)` gives and model.json's `modelTopology` holds. */
export type ModelTopology = Record<string, unknown>;

/** How `--model` names a network file rather than a zoo model: a model.json or a JS/TS module. */
const MODEL_FILE = /\.(json|[cm]?[jt]s)$/i;

export function isZooModel(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** How a run's config names a network that train()'s caller built in-process (its topology is in the run's initial-model/). */
export const BUILDER_PREFIX = 'builder:';

/** A run config's model: a --model value, or a `builder:<name>` label from the API. */
export function isRunModel(model: string): boolean {
  return isModelSpec(model) || /^builder:[\w.-]{1,100}$/.test(model);
}

/** A `--model` value: a zoo name, or the path of a model.json or a module. */
export function isModelSpec(spec: string): boolean {
  return isZooModel(spec) || MODEL_FILE.test(spec);
}

let fusedLayersRegistered = false;

/**
 * Deserialising Conv2D, BatchNormalization and Dropout gives gradsync's subclasses (the same
 * layers in the saved file, with fused kernels where the backend has them), so a network rebuilt
 * from a topology runs as fast as the zoo's. They keep Keras' class names, so files stay
 * standard: only the registry's entry for each name changes, not what a saved model says.
 */
function registerFusedLayers(): void {
  if (fusedLayersRegistered) return;
  for (const layer of [SeedConv2D, SeedBatchNormalization, SeedDropout]) tf.serialization.SerializationMap.register(layer as never);
  fusedLayersRegistered = true;
}

/** Weights to start from, as a saved model's manifest and bytes give them. */
export interface TopologyWeights {
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

/**
 * Builds the network a topology describes (its initialisers' weights, or `weights` when given).
 * `origin` names where the topology came from, for the error when it cannot be built.
 */
export async function modelFromTopology(topology: ModelTopology, origin: string, weights?: TopologyWeights): Promise<tfl.LayersModel> {
  registerFusedLayers();
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: topology }));
  } catch (err) {
    const message = (err as Error).message;
    const hint = /unknown (layer|class|\w+: )/i.test(message)
      ? `; gradsync rebuilds the network on every worker, so it may use only tfjs' built-in layers`
      : '';
    throw new GradsyncError('E_MODEL', `${origin}: the network cannot be built from its topology (${message.split('\n')[0]})${hint}`);
  }
  if (!weights) return model;
  try {
    const named = tf.io.decodeWeights(weights.weightData, weights.weightSpecs);
    model.loadWeights(named, true);
    for (const t of Object.values(named)) t.dispose();
  } catch (err) {
    model.dispose();
    throw new GradsyncError('E_MODEL', `${origin}: its weights do not fit its topology (${(err as Error).message.split('\n')[0]})`);
  }
  return model;
}

/** The topology of a built model, as workers rebuild it. */
export function topologyOf(model: tfl.LayersModel): ModelTopology {
  return model.toJSON(null, false) as ModelTopology;
}

/**
 * Checks that a user's network trains on this data: images of the data's shape in, one logit per
 * class out. A last layer with softmax is refused: the loss takes logits (softmax is applied in
 * the loss and by predict), and softmax twice trains badly without any error.
 */
export function checkUserModel(model: tfl.LayersModel, data: ModelShape, origin: string): void {
  try {
    checkModelFitsData(model, data);
  } catch (err) {
    throw new GradsyncError('E_MODEL', `${origin}: ${(err as Error).message}`);
  }
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  if (activation === 'softmax' || last?.getClassName() === 'Softmax') {
    throw new GradsyncError(
      'E_MODEL',
      `${origin}: the last layer ("${last.name}") applies softmax; gradsync's loss takes logits, so remove activation: 'softmax' from it (predict applies softmax itself)`,
    );
  }
}
