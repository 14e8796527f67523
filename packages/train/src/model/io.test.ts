import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './index';
import { loadLayersModel, saveLayersModel } from './io';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'gradsync-io-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('layers-format model files', () => {
  it('round-trips the seed CNN with its metadata', async () => {
    const model = buildModel('seed-cnn', 7);
    const out = path.join(dir, 'model');
    await saveLayersModel(model, out, { classNames: ['a', 'b'] });
    const json = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    const { model: loaded, metadata } = await loadLayersModel(out);
    expect(metadata.classNames).toEqual(['a', 'b']);
    const x = tf.randomUniform([2, 32, 32, 3]);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    // Saving again replaces the folder atomically.
    await saveLayersModel(model, out);
    expect((await loadLayersModel(out)).metadata).toEqual({});
  });

  it('names a missing or truncated file', async () => {
    await expect(loadLayersModel(path.join(dir, 'nope'))).rejects.toThrow(/nope.*model\.json is not found/);
    const out = path.join(dir, 'trunc');
    await saveLayersModel(buildModel('linear', 1), out);
    const w = await readFile(path.join(out, 'weights.bin'));
    await writeFile(path.join(out, 'weights.bin'), w.subarray(0, 100));
    await expect(loadLayersModel(out)).rejects.toThrow(/100 bytes.*truncated/);
  });
});
