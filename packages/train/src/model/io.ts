import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { asWriteFailure, WriteFailure, writeFileNamed } from '@gradsync/core/node';
import { modelFromTopology, type ModelTopology, type TopologyWeights } from './topology';

const WEIGHTS_FILE = 'weights.bin';

/**
 * A file-system error while writing `tmp` as a WriteFailure naming the file's final path in `dir`
 * (the temporary folder is gone by the time anyone reads the message); other errors unchanged.
 */
function writeFailureAt(err: unknown, tmp: string, dir: string): unknown {
  if (err instanceof WriteFailure) return err.file.startsWith(tmp) ? new WriteFailure(dir + err.file.slice(tmp.length), err.cause) : err;
  return (err as NodeJS.ErrnoException | null)?.syscall != null ? asWriteFailure(err, dir) : err;
}

/** Replaces `dir` by a fully written copy: write into a sibling temporary folder, then rename. */
export async function writeDirAtomically(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    await write(tmp);
    const old = `${dir}.old-${process.pid}`;
    let hadOld = false;
    try {
      await rename(dir, old);
      hadOld = true;
    } catch {
      /* no previous copy */
    }
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (err) {
    // Nothing half-written stays behind: `dir` is the old copy or absent, never a partial one.
    await rm(tmp, { recursive: true, force: true });
    throw writeFailureAt(err, tmp, dir);
  }
}

/**
 * Saves a model in the TensorFlow.js layers format (model.json + weights.bin), without
 * tfjs-node's file:// handler, atomically.
 */
export async function saveLayersModel(model: tfl.LayersModel, dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
  await writeDirAtomically(dir, async (tmp) => {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightData = artifacts.weightData
          ? Buffer.concat((Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]).map((b) => Buffer.from(b)))
          : Buffer.alloc(0);
        const modelJson = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
          userDefinedMetadata: { gradsync: metadata },
        };
        await writeFileNamed(path.join(tmp, 'model.json'), JSON.stringify(modelJson));
        await writeFileNamed(path.join(tmp, WEIGHTS_FILE), weightData);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightData.length } };
      }),
    );
  });
}

interface ModelJson {
  modelTopology?: ModelTopology;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
  /** A bare topology (what `model.toJSON()` writes) has these at its top level. */
  class_name?: unknown;
  config?: unknown;
}

/** What a layers-format file holds: the topology, the weights when it has any, gradsync's metadata. */
export interface LayersModelFiles {
  jsonPath: string;
  topology: ModelTopology;
  weights?: TopologyWeights;
  metadata: Record<string, unknown>;
}

/**
 * Reads a model.json (a folder holding one, or its path) and the weight files it names. A file
 * with no weights (an empty or absent manifest), or a bare topology as `model.toJSON()` writes it,
 * gives the topology alone.
 */
export async function readLayersModelFiles(location: string): Promise<LayersModelFiles> {
  const jsonPath = /\.json$/i.test(location) ? location : path.join(location, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(err as Error).message})`;
    throw new GradsyncError('E_MODEL_FILE', `model file ${jsonPath} is ${why}; pass the folder a training run exported (runs/<name>/model) or a model.json`);
  }
  if (json === null || typeof json !== 'object') throw new GradsyncError('E_MODEL_FILE', `${jsonPath} is not a TensorFlow.js layers model (not a JSON object)`);
  const metadata = (json.userDefinedMetadata?.gradsync ?? {}) as Record<string, unknown>;
  if (!json.modelTopology) {
    if (typeof json.class_name === 'string' && json.config) return { jsonPath, topology: json as ModelTopology, metadata };
    throw new GradsyncError(
      'E_MODEL_FILE',
      `${jsonPath} is not a TensorFlow.js layers model (no modelTopology, and not a bare topology with class_name and config)`,
    );
  }
  if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) {
    throw new GradsyncError('E_MODEL_FILE', `${jsonPath}: weightsManifest must be a list`);
  }
  const manifest = json.weightsManifest ?? [];
  const weightSpecs = manifest.flatMap((group) => group.weights);
  if (weightSpecs.length === 0) return { jsonPath, topology: json.modelTopology, metadata };
  // Training needs float32 weights; a converter's quantized or float16 output would read as truncated below.
  const other = weightSpecs.find((w) => (w.dtype !== undefined && w.dtype !== 'float32') || w.quantization !== undefined);
  if (other) {
    throw new GradsyncError(
      'E_MODEL_FILE',
      `${jsonPath}: weight ${other.name} is ${other.quantization ? `quantized (${other.quantization.dtype})` : other.dtype}; gradsync trains float32 weights, so convert without quantization`,
    );
  }
  const dir = path.dirname(jsonPath);
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    for (const p of group.paths) {
      try {
        buffers.push(await readFile(path.join(dir, p)));
      } catch {
        throw new GradsyncError('E_MODEL_FILE', `weights file ${path.join(dir, p)} named by ${jsonPath} is missing`);
      }
    }
  }
  const weightData = Buffer.concat(buffers);
  const expected = weightSpecs.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.length !== expected) {
    throw new GradsyncError('E_MODEL_FILE', `weights in ${dir} hold ${weightData.length} bytes, the model needs ${expected}: truncated or mismatched`);
  }
  const weights = { weightSpecs, weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer };
  return { jsonPath, topology: json.modelTopology, weights, metadata };
}

/** Loads a model saved in the layers format from a folder (or its model.json path). */
export async function loadLayersModel(location: string): Promise<{ model: tfl.LayersModel; metadata: Record<string, unknown> }> {
  const files = await readLayersModelFiles(location);
  if (!files.weights)
    throw new GradsyncError('E_MODEL_FILE', `${files.jsonPath} holds a topology but no weights: it is a network to train (--model), not a trained model`);
  return { model: await modelFromTopology(files.topology, files.jsonPath, files.weights), metadata: files.metadata };
}
