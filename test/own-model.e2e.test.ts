/**
 * Your own network: `--model` given a TypeScript module and a tfjs Layers model.json, trained by a
 * real coordinator with 2 local worker processes on an image folder (workers rebuild the network
 * from the topology in the welcome); a zoo model and its own initial-model/model.json train
 * identically; a network that does not fit the data is refused before any worker trains.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@gradsync/backends';
import { CLASSES, imageFolder } from './helpers/image-folder';
import {
  epochs,
  expectTrainedTogether,
  exportedWeights,
  maxAbsDiff,
  readMetrics,
  ROOT,
  runCli,
  START_CLI,
  startRun,
  steps,
  syntheticDataDir,
  tempDir,
} from './helpers/runs';

const PREDICT_CLI = path.join(ROOT, 'packages/standalone/src/cli/predict.ts');

/** A module as a user writes one outside this repository: no tfjs import, only the `tf` it is given. */
const MODULE_SOURCE = `
import type { ModelBuilder } from '@gradsync/train/node';

const build: ModelBuilder = ({ tf, inputShape, numClasses }) => {
  const model = tf.sequential({ name: 'users_net' });
  model.add(tf.layers.conv2d({ inputShape, filters: 6, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: numClasses }));
  return model;
};
export default build;
`;

/** A topology-only model.json, as tfjs' model.save or a converter writes one: weights start from its initialisers. */
function writeTopology(file: string, numClasses: number, lastActivation?: 'softmax'): void {
  const model = tfl.sequential({ name: 'users_json_net' });
  model.add(tfl.layers.conv2d({ inputShape: [20, 24, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: numClasses, activation: lastActivation }));
  writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: model.toJSON(null, false), weightsManifest: [] }));
  model.dispose();
}

const TRAIN = ['--workers', '2', '--image-size', '20x24', '--epochs', '5', '--batch-size', '24', '--lr', '0.01', '--hash-every', '2', '--validation', '0'];

async function predictClasses(modelDir: string, dataDir: string): Promise<string[]> {
  const files = Object.keys(CLASSES).map((name) => path.join(dataDir, 'test', name, '3.jpg'));
  const r = await runCli(PREDICT_CLI, ['--model', modelDir, '--image', ...files, '--json', '--quiet'], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { images: { top: { className: string }[] }[] }).images.map((i) => i.top[0]!.className);
}

describe('--model with your own network', () => {
  let dataDir: string;
  let userDir: string;
  const runsDir = tempDir('own-model-runs');
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' }); // the model.json fixtures are built with tfjs-layers here
    dataDir = imageFolder();
    userDir = tempDir('own-model-files');
  });

  it('a TypeScript module: 2 workers rebuild it, keep identical weights, and predict names the classes; resume needs the module no more', async () => {
    const module = path.join(userDir, 'net.ts');
    writeFileSync(module, MODULE_SOURCE);
    const run = await startRun({ dataDir, runsDir, name: 'module', args: [...TRAIN, '--model', module] });
    expect(run.stderr + run.stdout).toMatch(/model: .*net\.ts \(\d+ parameters\), rebuilt from its topology on every worker/);
    expectTrainedTogether(run.records);
    expect(await predictClasses(path.join(run.runDir, 'model'), dataDir)).toEqual(Object.keys(CLASSES));

    // The run folder keeps the network it began with and how it read its data: resuming takes both
    // from there (no --model, --data-dir or --image-size again), so the module is no longer needed.
    rmSync(module);
    const resumed = await runCli(START_CLI, ['--resume', run.runDir, '--epochs', '6', '--port', '0', '--workers', '2']);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .*module.* \(epoch 6, step \d+\)/);
    const records = readMetrics(run.runDir);
    expect(epochs(records).map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records.filter((r) => r.kind === 'end').map((r) => r.status)).toEqual(['completed', 'completed']);
  }, 300_000);

  it('a topology-only model.json: 2 workers train it from its initialisers, and predict names the classes', async () => {
    const file = path.join(userDir, 'model.json');
    writeTopology(file, 3);
    const run = await startRun({ dataDir, runsDir, name: 'json', args: [...TRAIN, '--model', file] });
    expectTrainedTogether(run.records);
    expect(await predictClasses(path.join(run.runDir, 'model'), dataDir)).toEqual(Object.keys(CLASSES));
  }, 300_000);

  it('refuses a network that does not fit the data, or ends in softmax, naming the problem', async () => {
    const cases: [string, RegExp][] = [];
    const wrongClasses = path.join(userDir, 'five.json');
    writeTopology(wrongClasses, 5);
    cases.push([wrongClasses, /five\.json: model "users_json_net" gives 5 logits but the data has 3 classes/]);
    const softmax = path.join(userDir, 'softmax.json');
    writeTopology(softmax, 3, 'softmax');
    cases.push([softmax, /softmax\.json: the last layer \("dense_Dense\d+"\) applies softmax; gradsync's loss takes logits/]);
    const noDefault = path.join(userDir, 'no-default.mjs');
    writeFileSync(noDefault, 'export const build = () => null;\n');
    cases.push([noDefault, /no-default\.mjs has no default export function/]);
    cases.push([path.join(userDir, 'missing.js'), /--model .*missing\.js: .* not found/]);
    for (const [model, message] of cases) {
      const r = await runCli(
        START_CLI,
        ['--data-dir', dataDir, '--image-size', '20x24', '--workers', '1', '--port', '0', '--runs-dir', tempDir('own-model-bad'), '--model', model],
        {
          timeoutMs: 60_000,
        },
      );
      expect(r.code, model).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  }, 300_000);
});

describe('a zoo model and its model.json', () => {
  it('--model resnet9 and the same network given as its initial-model/model.json give identical loss rows and weights', async () => {
    const dataDir = await syntheticDataDir(96, 32);
    const runsDir = tempDir('zoo-json-runs');
    // An equal split: the speed split moves samples between workers by timing, and BatchNorm sees each worker's share.
    const common = ['--workers', '2', '--epochs', '2', '--batch-size', '32', '--split', 'equal', '--validation', '32'];
    const zoo = await startRun({ dataDir, runsDir, name: 'zoo', args: [...common, '--model', 'resnet9'] });
    const fromJson = await startRun({ dataDir, runsDir, name: 'json', args: [...common, '--model', path.join(zoo.runDir, 'initial-model', 'model.json')] });
    const lossRows = (records: ReturnType<typeof readMetrics>) =>
      epochs(records).map((e) => [e.trainLoss, e.trainAccuracy, e.validation?.loss, e.test?.accuracy]);
    expect(epochs(zoo.records)).toHaveLength(2);
    expect(lossRows(fromJson.records)).toEqual(lossRows(zoo.records));
    expect(steps(fromJson.records).map((s) => s.loss)).toEqual(steps(zoo.records).map((s) => s.loss));
    expect(maxAbsDiff(exportedWeights(zoo.runDir), exportedWeights(fromJson.runDir))).toBe(0);
  }, 600_000);
});
