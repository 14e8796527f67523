import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { readLayersModelFiles } from './io';
import type { ModelShape } from './model-shape';
import { BUILDER_PREFIX, checkUserModel, isZooModel, modelFromTopology, topologyOf, type TopologyWeights } from './topology';

/** The TensorFlow.js a model module builds with: gradsync's own copy, core and layers in one object, as `@tensorflow/tfjs` exports them. */
export type GradsyncTf = typeof tfc & typeof tfl;

/** What a model module's default export is called with. */
export interface ModelModuleArgs {
  /** gradsync's TensorFlow.js: build with this, so the module needs no tfjs of its own. */
  tf: GradsyncTf;
  /** [height, width, channels] of the data's images. */
  inputShape: [number, number, number];
  numClasses: number;
}

/** A model module's default export: builds the network (logits, no softmax) for the data. */
export type ModelBuilder = (args: ModelModuleArgs) => tfl.LayersModel | Promise<tfl.LayersModel>;

const TF: GradsyncTf = { ...tfc, ...tfl };

/** Where a run keeps the network as it began (topology and first weights), for --resume and for reruns. */
export const INITIAL_MODEL_DIR = 'initial-model';

/** A saved model's weights in memory: how a module's network reaches its rebuilt copy unchanged. */
async function weightsOf(model: tfl.LayersModel): Promise<TopologyWeights> {
  let weights: TopologyWeights | undefined;
  await model.save(
    tfc.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const buffer = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tfc.io.concatenateArrayBuffers(data) : data;
      weights = { weightSpecs: artifacts.weightSpecs ?? [], weightData: buffer };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return weights!;
}

async function modelFromModule(file: string, data: ModelShape): Promise<tfl.LayersModel> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new GradsyncError('E_MODEL_FILE', `model module ${file} failed to load: ${(err as Error).message}`);
  }
  if (typeof module.default !== 'function') {
    throw new GradsyncError(
      'E_MODEL_FILE',
      `model module ${file} has no default export function; export default ({ tf, inputShape, numClasses }) => a tf.LayersModel`,
    );
  }
  return modelFromBuilder(module.default as ModelBuilder, data, `model module ${file}`, 'its default export');
}

/** Calls a builder for the data's shape, then rebuilds its network from its own topology, as every worker rebuilds it, so the coordinator holds the same layers. */
async function modelFromBuilder(builder: ModelBuilder, data: ModelShape, origin: string, what = 'the model function'): Promise<tfl.LayersModel> {
  let built: unknown;
  try {
    built = await builder({ tf: TF, inputShape: [...data.inputShape], numClasses: data.numClasses });
  } catch (err) {
    throw new GradsyncError('E_MODEL', `${origin}: ${what} threw: ${(err as Error).message}`);
  }
  if (!(built instanceof tfl.LayersModel)) {
    throw new GradsyncError(
      'E_MODEL',
      `${origin}: ${what} returned ${built === null ? 'null' : typeof built}, not a tf.LayersModel built with the tf it was given (a model from another copy of tfjs is not one)`,
    );
  }
  const rebuilt = await modelFromTopology(topologyOf(built), origin, await weightsOf(built));
  built.dispose();
  return rebuilt;
}

/**
 * The network a run trains when --model names a file: a model.json (topology, and weights where
 * it has them) or a JS/TS module. A resumed run takes the network it began with from its folder
 * instead, whatever the file says now. Zoo models give undefined: replicaForRun builds them.
 * Checked against the data: its image shape in, one logit per class out, no softmax.
 */
export async function networkForRun(spec: string, data: ModelShape, resumeDir?: string, builder?: ModelBuilder): Promise<tfl.LayersModel | undefined> {
  if (isZooModel(spec) && !builder) return undefined;
  const initial = resumeDir === undefined ? undefined : path.join(resumeDir, INITIAL_MODEL_DIR);
  let model: tfl.LayersModel;
  let origin: string;
  if (initial !== undefined && existsSync(path.join(initial, 'model.json'))) {
    const files = await readLayersModelFiles(initial);
    origin = files.jsonPath;
    model = await modelFromTopology(files.topology, origin, files.weights);
  } else if (builder) {
    origin = `model function ${spec.slice(BUILDER_PREFIX.length)}`;
    model = await modelFromBuilder(builder, data, origin);
  } else if (spec.startsWith(BUILDER_PREFIX)) {
    throw new GradsyncError(
      'E_MODEL',
      `${spec} names a network built in-process by train(), and this run folder holds no ${INITIAL_MODEL_DIR}/ to rebuild it from`,
    );
  } else {
    const file = path.resolve(spec);
    if (!existsSync(file)) throw new GradsyncError('E_MODEL_FILE', `--model ${spec}: ${file} not found (a zoo name, a model.json or a JS/TS module)`);
    origin = file;
    if (/\.json$/i.test(file)) {
      const files = await readLayersModelFiles(file);
      model = await modelFromTopology(files.topology, origin, files.weights);
    } else {
      model = await modelFromModule(file, data);
    }
  }
  checkUserModel(model, data, origin);
  return model;
}
