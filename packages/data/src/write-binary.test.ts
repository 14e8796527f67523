import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from './synthetic';
import { RECORD_BYTES } from './types';
import { writeCifar10Archive, writeCifar10Binary } from './write-binary';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-write-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeCifar10Binary', () => {
  const data = makeSyntheticCifar10({ train: 12, test: 3, seed: 1 });

  it('writes the official file names, the training images split as evenly as possible', async () => {
    const dir = join(root, 'plain');
    const written = await writeCifar10Binary(dir, data);
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual([
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
      'batches.meta.txt',
    ]);
    const sizes = await Promise.all(written.slice(0, 6).map(async (p) => (await stat(p)).size / RECORD_BYTES));
    expect(sizes).toEqual([3, 3, 2, 2, 2, 3]);
  });

  it('writes .bin.gz with gzip and replaces stale files of the other kind', async () => {
    const dir = join(root, 'gz');
    await writeCifar10Binary(dir, data, { trainFiles: 2 });
    await writeCifar10Binary(dir, data, { trainFiles: 2, gzip: true });
    expect((await readdir(dir)).sort()).toEqual(['batches.meta.txt', 'data_batch_1.bin.gz', 'data_batch_2.bin.gz', 'test_batch.bin.gz']);
  });

  it('rejects more training files than images, an empty test split, and bad class names', async () => {
    await expect(writeCifar10Binary(join(root, 'x'), data, { trainFiles: 13 })).rejects.toThrow(/12 training images cannot fill 13/);
    const noTest = { ...data, test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 } };
    await expect(writeCifar10Binary(join(root, 'x'), noTest)).rejects.toThrow(/test split is empty/);
    await expect(writeCifar10Binary(join(root, 'x'), { ...data, classNames: ['a'] })).rejects.toThrow(/classNames/);
  });
});

describe('writeCifar10Archive', () => {
  it('writes a tar.gz holding cifar-10-batches-bin/ and leaves no temporary files', async () => {
    const dir = join(root, 'archive');
    await writeFile(join(root, 'marker'), '');
    await writeCifar10Archive(join(dir, 'cifar-10-binary.tar.gz'), makeSyntheticCifar10({ train: 5, test: 1, seed: 2 }));
    expect(await readdir(dir)).toEqual(['cifar-10-binary.tar.gz']);
  });
});
