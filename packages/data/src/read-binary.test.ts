import { copyFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { readCifar10Binary } from './read-binary';
import { makeSyntheticCifar10 } from './synthetic';
import { CIFAR10_CLASS_NAMES, RECORD_BYTES, type Cifar10 } from './types';
import { writeCifar10Archive, writeCifar10Binary } from './write-binary';

const data = makeSyntheticCifar10({ train: 23, test: 7, seed: 11 });
let root: string;
let n = 0;
const fresh = () => join(root, `case-${n++}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-read-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function expectSameData(got: Cifar10, want: Cifar10): void {
  expect(got.train.count).toBe(want.train.count);
  expect(got.test.count).toBe(want.test.count);
  expect(Buffer.compare(got.train.images, want.train.images)).toBe(0);
  expect(Buffer.compare(got.train.labels as Uint8Array, want.train.labels as Uint8Array)).toBe(0);
  expect(Buffer.compare(got.test.images, want.test.images)).toBe(0);
  expect(Buffer.compare(got.test.labels as Uint8Array, want.test.labels as Uint8Array)).toBe(0);
}

async function rejection(promise: Promise<unknown>): Promise<GradsyncError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GradsyncError);
    return err as GradsyncError;
  }
  throw new Error('expected a rejection');
}

describe('readCifar10Binary round trip', () => {
  it('reads back a folder of .bin files exactly', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data);
    const got = await readCifar10Binary(dir);
    expectSameData(got, data);
    expect(got.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect(got.source).toContain(dir);
  });

  it('reads .bin.gz files inside a cifar-10-batches-bin/ subfolder', async () => {
    const dir = fresh();
    await writeCifar10Binary(join(dir, 'cifar-10-batches-bin'), data, { gzip: true });
    expectSameData(await readCifar10Binary(dir), data);
  });

  it('reads the archive, from its folder or its path', async () => {
    const dir = fresh();
    const archive = join(dir, 'cifar-10-binary.tar.gz');
    await writeCifar10Archive(archive, data);
    expectSameData(await readCifar10Binary(dir), data);
    const got = await readCifar10Binary(archive);
    expectSameData(got, data);
    expect(got.source).toContain(archive);
  });

  it('reads a set with another number of training files when told to', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data, { trainFiles: 2 });
    expectSameData(await readCifar10Binary(dir, { trainFiles: 2 }), data);
    const err = await rejection(readCifar10Binary(dir));
    expect(err.message).toMatch(/missing .*data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin/);
  });

  it('uses the class names of batches.meta.txt', async () => {
    const dir = fresh();
    const names = CIFAR10_CLASS_NAMES.map((c) => c.toUpperCase());
    await writeCifar10Binary(dir, { ...data, classNames: names });
    expect((await readCifar10Binary(dir)).classNames).toEqual(names);
    await writeFile(join(dir, 'batches.meta.txt'), 'a\nb\n');
    expect((await rejection(readCifar10Binary(dir))).message).toMatch(/batches\.meta\.txt lists 2 class names/);
  });
});

describe('readCifar10Binary errors', () => {
  it('names what is missing and what was found', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data);
    await rm(join(dir, 'data_batch_4.bin'));
    await rm(join(dir, 'test_batch.bin'));
    const err = await rejection(readCifar10Binary(dir));
    expect(err.code).toBe('DATA_MISSING_FILES');
    expect(err.message).toContain('missing in');
    expect(err.message).toContain('data_batch_4.bin, test_batch.bin');
    expect(err.message).toContain('Found: batches.meta.txt, data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_5.bin');
  });

  it('reports a folder with nothing of CIFAR-10 in it', async () => {
    const dir = fresh();
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), '');
    const err = await rejection(readCifar10Binary(dir));
    expect(err.message).toMatch(/missing .*data_batch_1\.bin.*Found: notes\.txt/);
    expect((await rejection(readCifar10Binary(join(dir, 'nope')))).code).toBe('DATA_NOT_FOUND');
    expect((await rejection(readCifar10Binary(join(dir, 'notes.txt')))).code).toBe('DATA_BAD_ARGUMENT');
  });

  it('points at the archive when partial batch files sit beside it', async () => {
    const dir = fresh();
    await writeCifar10Archive(join(dir, 'cifar-10-binary.tar.gz'), data);
    await writeCifar10Binary(join(dir, 'partial'), data);
    await copyFile(join(dir, 'partial', 'data_batch_1.bin'), join(dir, 'data_batch_1.bin'));
    const err = await rejection(readCifar10Binary(dir));
    expect(err.message).toContain('cifar-10-binary.tar.gz is also in');
  });

  it('rejects training files beyond the expected ones', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data);
    await copyFile(join(dir, 'data_batch_1.bin'), join(dir, 'data_batch_6.bin'));
    expect((await rejection(readCifar10Binary(dir))).message).toContain('data_batch_6.bin beyond the 5 expected');
  });

  it('rejects a truncated file, naming it, its size and the leftover bytes', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data);
    const file = join(dir, 'data_batch_2.bin');
    const size = 5 * RECORD_BYTES - 1000;
    await truncate(file, size);
    const err = await rejection(readCifar10Binary(dir));
    expect(err.code).toBe('DATA_BAD_SIZE');
    expect(err.message).toContain(file);
    expect(err.message).toContain(`size ${size} bytes`);
    expect(err.message).toContain(`${RECORD_BYTES - 1000} leftover bytes`);
  });

  it('rejects a bad label, naming the file and record', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data);
    const file = join(dir, 'test_batch.bin');
    const bytes = await readFile(file);
    bytes[3 * RECORD_BYTES] = 200;
    await writeFile(file, bytes);
    const err = await rejection(readCifar10Binary(dir));
    expect(err.code).toBe('DATA_BAD_LABEL');
    expect(err.message).toContain(`${file}: record 3 has label 200`);
  });

  it('rejects a truncated .bin.gz', async () => {
    const dir = fresh();
    await writeCifar10Binary(dir, data, { gzip: true });
    const file = join(dir, 'data_batch_1.bin.gz');
    const gz = await readFile(file);
    await writeFile(file, gz.subarray(0, gz.length - 20));
    const err = await rejection(readCifar10Binary(dir));
    expect(err.code).toBe('DATA_CORRUPT_ARCHIVE');
    expect(err.message).toContain(file);
  });

  it('rejects a truncated .tar.gz, naming it', async () => {
    const dir = fresh();
    const archive = join(dir, 'cifar-10-binary.tar.gz');
    await writeCifar10Archive(archive, data);
    const bytes = await readFile(archive);
    await writeFile(archive, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await rejection(readCifar10Binary(dir));
    expect(err.code).toBe('DATA_CORRUPT_ARCHIVE');
    expect(err.message).toContain(`${archive}: truncated or corrupt archive`);
  });

  it('rejects a truncated plain tar whose gzip layer is intact', async () => {
    const dir = fresh();
    const archive = join(dir, 'cifar-10-binary.tar.gz');
    await writeCifar10Archive(archive, data);
    const { gunzipSync } = await import('node:zlib');
    const tarBytes = gunzipSync(await readFile(archive));
    await writeFile(archive, gzipSync(tarBytes.subarray(0, 3 * 512 + 100)));
    const err = await rejection(readCifar10Binary(archive));
    expect(err.code).toBe('DATA_CORRUPT_ARCHIVE');
    expect(err.message).toContain('end-of-archive marker');
  });
});
