import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedBatchNormalization } from './batch-norm-layer';
import { SeedConv2D } from './conv-layer';
import { readLayersModelFiles } from './io';
import { checkUserModel, isModelSpec, modelFromTopology, topologyOf } from './topology';
import { networkForRun } from './user-model';
import { buildModel } from './zoo';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'gradsync-topology-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const CIFAR = { inputShape: [32, 32, 3] as const, numClasses: 10 };

describe('networks from a topology', () => {
  it('rebuilds a zoo model with gradsync fused layers, under Keras class names', async () => {
    const zoo = buildModel('seed-cnn', 3);
    const topology = topologyOf(zoo);
    expect(JSON.stringify(topology)).toContain('"class_name":"Conv2D"');
    expect(JSON.stringify(topology)).not.toContain('Custom>');
    const rebuilt = await modelFromTopology(topology, 'test');
    expect(rebuilt.layers.filter((l) => l instanceof SeedConv2D)).toHaveLength(4);
    expect(rebuilt.layers.filter((l) => l instanceof SeedBatchNormalization)).toHaveLength(2);
    expect(rebuilt.countParams()).toBe(zoo.countParams());
  });

  it('names an unknown layer class, and says why only built-in layers work', async () => {
    const topology = topologyOf(buildModel('linear', 1)) as { config: { layers: { class_name: string }[] } };
    topology.config.layers[1]!.class_name = 'MyFancyDense';
    await expect(modelFromTopology(topology, 'net.json')).rejects.toThrow(/net\.json: the network cannot be built .*MyFancyDense.*only tfjs' built-in layers/);
  });

  it('checks the output: the data class count, and logits rather than softmax', () => {
    const model = (units: number, activation?: 'softmax') => {
      const m = tfl.sequential();
      m.add(tfl.layers.flatten({ inputShape: [32, 32, 3] }));
      m.add(tfl.layers.dense({ units, activation }));
      return m;
    };
    expect(() => checkUserModel(model(10), CIFAR, 'ok.json')).not.toThrow();
    expect(() => checkUserModel(model(7), CIFAR, 'seven.json')).toThrow(/seven\.json: .* gives 7 logits but the data has 10 classes/);
    expect(() => checkUserModel(model(10, 'softmax'), CIFAR, 'soft.json')).toThrow(/soft\.json: the last layer .* applies softmax/);
    expect(() => checkUserModel(model(10), { inputShape: [28, 28, 1], numClasses: 10 }, 'x')).toThrow(/takes 32×32×3 images but the data's are 28×28×1/);
  });

  it('--model takes zoo names and model files, nothing else', () => {
    for (const ok of ['resnet9', 'net.json', 'a/b/net.ts', 'net.mjs', 'net.cjs', 'net.js', 'net.mts']) expect(isModelSpec(ok), ok).toBe(true);
    for (const bad of ['resnet10', 'net.py', 'model', '']) expect(isModelSpec(bad), bad).toBe(false);
  });
});

describe('model files', () => {
  it('reads a bare topology (what model.toJSON() writes) and a topology-only model.json', async () => {
    const topology = topologyOf(buildModel('tiny-cnn', 1));
    await writeFile(path.join(dir, 'bare.json'), JSON.stringify(topology));
    await writeFile(path.join(dir, 'plain.json'), JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: [] }));
    for (const file of ['bare.json', 'plain.json']) {
      const files = await readLayersModelFiles(path.join(dir, file));
      expect(files.weights).toBeUndefined();
      expect(files.topology).toEqual(topology);
    }
    await writeFile(path.join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
    await expect(readLayersModelFiles(path.join(dir, 'other.json'))).rejects.toThrow(/not a TensorFlow\.js layers model/);
  });

  it('builds a module default export with the data shape, and names a module that gives no model', async () => {
    await writeFile(
      path.join(dir, 'net.mjs'),
      `export default ({ tf, inputShape, numClasses }) => { const m = tf.sequential(); m.add(tf.layers.flatten({ inputShape })); m.add(tf.layers.dense({ units: numClasses })); return m; };\n`,
    );
    const net = await networkForRun(path.join(dir, 'net.mjs'), { inputShape: [8, 6, 1], numClasses: 4 });
    expect(net!.inputs[0]!.shape).toEqual([null, 8, 6, 1]);
    expect(net!.outputs[0]!.shape).toEqual([null, 4]);
    expect(await networkForRun('resnet9', CIFAR)).toBeUndefined();
    await writeFile(path.join(dir, 'null.mjs'), 'export default () => null;\n');
    await expect(networkForRun(path.join(dir, 'null.mjs'), CIFAR)).rejects.toThrow(/null\.mjs: its default export returned null, not a tf\.LayersModel/);
    await writeFile(path.join(dir, 'throws.mjs'), "export default () => { throw new Error('no GPU here'); };\n");
    await expect(networkForRun(path.join(dir, 'throws.mjs'), CIFAR)).rejects.toThrow(/throws\.mjs: its default export threw: no GPU here/);
  });
});

describe('weights that do not fit', () => {
  it('names the weights, not the topology, and refuses quantized weights by name', async () => {
    const topology = topologyOf(buildModel('linear', 1));
    const other = buildModel('tiny-cnn', 1);
    const specs: tf.io.WeightsManifestEntry[] = other.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], dtype: 'float32' }));
    const data = new Float32Array(specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0));
    await expect(modelFromTopology(topology, 'mixed.json', { weightSpecs: specs, weightData: data.buffer })).rejects.toThrow(
      /mixed\.json: its weights do not fit its topology/,
    );
    await writeFile(
      path.join(dir, 'quantized.json'),
      JSON.stringify({
        modelTopology: topology,
        weightsManifest: [
          { paths: ['w.bin'], weights: [{ name: 'dense/kernel', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } }] },
        ],
      }),
    );
    await expect(readLayersModelFiles(path.join(dir, 'quantized.json'))).rejects.toThrow(
      /weight dense\/kernel is quantized \(uint8\); gradsync trains float32/,
    );
  });
});
