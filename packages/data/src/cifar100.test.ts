import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR100_FOLDER, isCifar100, readCifar100 } from './cifar100';

const FINE = Array.from({ length: 100 }, (_, i) => `fine${i}`);
const COARSE = Array.from({ length: 20 }, (_, i) => `coarse${i}`);

/** Records whose pixel (channel c, position p) is (index + 7c + p) mod 256, so the CHW → HWC move can be checked anywhere. */
function records(count: number, first: number): Buffer {
  const out = Buffer.alloc(count * 3074);
  for (let i = 0; i < count; i++) {
    const index = first + i;
    out[i * 3074] = index % 20;
    out[i * 3074 + 1] = index % 100;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[i * 3074 + 2 + c * 1024 + p] = (index + 7 * c + p) % 256;
  }
  return out;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'gradsync-cifar100-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeSet(dir: string, train = records(30, 0), test = records(8, 1000)): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'train.bin'), train);
  writeFileSync(path.join(dir, 'test.bin'), test);
  writeFileSync(path.join(dir, 'fine_label_names.txt'), FINE.join('\n') + '\n');
  writeFileSync(path.join(dir, 'coarse_label_names.txt'), COARSE.join('\n') + '\n');
}

describe('CIFAR-100 binary', () => {
  it('reads fine labels by default and coarse on request, pixels moved to HWC', async () => {
    const dir = path.join(root, 'plain');
    writeSet(path.join(dir, CIFAR100_FOLDER));
    expect(await isCifar100(dir)).toBe(true);
    const fine = await readCifar100(dir);
    expect(fine.classNames).toEqual(FINE);
    expect(fine.shape).toEqual({ height: 32, width: 32, channels: 3 });
    expect([fine.train.count, fine.test.count]).toEqual([30, 8]);
    expect(fine.train.labels[29]).toBe(29);
    expect(fine.test.labels[3]).toBe(1003 % 100);
    // Image 5, pixel 100, channel 2 (blue): (5 + 14 + 100) mod 256.
    expect(fine.train.images[5 * 3072 + 100 * 3 + 2]).toBe(119);
    const coarse = await readCifar100(dir, 'coarse');
    expect(coarse.classNames).toEqual(COARSE);
    expect(coarse.train.labels[25]).toBe(5);
  });

  it('reads the official archive too', async () => {
    const dir = path.join(root, 'archived');
    writeSet(path.join(dir, CIFAR100_FOLDER));
    await tar.c({ gzip: true, file: path.join(dir, 'cifar-100-binary.tar.gz'), cwd: dir }, [CIFAR100_FOLDER]);
    rmSync(path.join(dir, CIFAR100_FOLDER), { recursive: true });
    const data = await readCifar100(dir);
    expect(data.source).toMatch(/archive .*cifar-100-binary\.tar\.gz/);
    expect(data.train.count).toBe(30);
  });

  it('names a truncated file, a label out of range and a missing file', async () => {
    const truncated = path.join(root, 'truncated');
    writeSet(truncated, records(30, 0).subarray(0, 3074 * 2 + 10));
    await expect(readCifar100(truncated)).rejects.toThrow(/train\.bin: size 6158 bytes is not a whole, non-zero number of 3074-byte CIFAR-100 records/);
    const badLabel = records(2, 0);
    badLabel[3074 + 1] = 140;
    const labelled = path.join(root, 'bad-label');
    writeSet(labelled, badLabel);
    await expect(readCifar100(labelled)).rejects.toThrow(/train\.bin: record 1 has fine label 140; fine labels must be 0\.\.99/);
    const missing = path.join(root, 'missing');
    writeSet(missing);
    rmSync(path.join(missing, 'test.bin'));
    await expect(readCifar100(missing)).rejects.toThrow(/CIFAR-100 files missing: test\.bin/);
  });
});
