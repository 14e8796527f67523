import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, parseImageSize } from './load-dataset';
import { makeSyntheticCifar10 } from './synthetic';
import { writeCifar10Binary } from './write-binary';

const root = mkdtempSync(path.join(tmpdir(), 'gradsync-load-dataset-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadDataset', () => {
  it('recognises CIFAR-10 binaries and gives them their shape', async () => {
    const dir = path.join(root, 'c10');
    await writeCifar10Binary(dir, makeSyntheticCifar10({ train: 20, test: 5, seed: 1 }), { trainFiles: 1 });
    const data = await loadDataset({ dataDir: dir, trainFiles: 1 });
    expect(data.shape).toEqual({ height: 32, width: 32, channels: 3 });
    expect(data.classNames).toHaveLength(10);
  });

  it('says a missing folder is missing, and which flags do not apply to the data found', async () => {
    await expect(loadDataset({ dataDir: path.join(root, 'nowhere'), imageSize: { height: 8, width: 8 } })).rejects.toThrow(
      /nowhere does not exist \(--data-dir\)/,
    );
    const dir = path.join(root, 'c10-flags');
    await writeCifar10Binary(dir, makeSyntheticCifar10({ train: 4, test: 2, seed: 1 }), { trainFiles: 1 });
    await expect(loadDataset({ dataDir: dir, imageSize: { height: 8, width: 8 }, channels: 1 })).rejects.toThrow(
      /--image-size, --channels applies to image folders; .* is cifar10/,
    );
    await expect(loadDataset({ dataDir: dir, labels: 'coarse' })).rejects.toThrow(/--labels applies to CIFAR-100; the data is cifar10/);
  });

  it('parses --image-size as H or HxW', () => {
    expect(parseImageSize('64')).toEqual({ height: 64, width: 64 });
    expect(parseImageSize('224x160')).toEqual({ height: 224, width: 160 });
    expect(() => parseImageSize('0x5')).toThrow(/sides from 1 to 8192/);
    expect(() => parseImageSize('big')).toThrow(/"big" is not H or HxW/);
  });
});
