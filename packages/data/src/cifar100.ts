/**
 * CIFAR-100's binary layout: each record is 1 coarse label byte (20 superclasses), 1 fine label
 * byte (100 classes), then 3072 CHW pixel bytes of a 32×32 RGB image; `train.bin` (50,000) and
 * `test.bin` (10,000), with `fine_label_names.txt` and `coarse_label_names.txt`, in
 * `cifar-100-binary/` or the `cifar-100-binary.tar.gz` archive holding it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { readTarEntries } from './tar-entries';
import type { ImageDataset, ImageSplit } from './types';

export const CIFAR100_FOLDER = 'cifar-100-binary';
export const CIFAR100_ARCHIVE = 'cifar-100-binary.tar.gz';
const PIXELS = 32 * 32;
const RECORD = 2 + 3 * PIXELS;
const FILES = ['train.bin', 'test.bin', 'fine_label_names.txt', 'coarse_label_names.txt'] as const;

/** Fine labels (100 classes, the usual benchmark) or coarse (20 superclasses). */
export type Cifar100Labels = 'fine' | 'coarse';

/** Parses whole CIFAR-100 records (CHW → HWC), keeping the chosen labels; `fileName` names the source in errors. */
export function parseCifar100Records(bytes: Uint8Array, fileName: string, labels: Cifar100Labels, classCount: number): ImageSplit {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new GradsyncError(
      'DATA_BAD_SIZE',
      `${fileName}: size ${bytes.length} bytes is not a whole, non-zero number of ${RECORD}-byte CIFAR-100 records; the file is truncated or not in the CIFAR-100 binary format`,
    );
  }
  const count = bytes.length / RECORD;
  const images = new Uint8Array(count * 3 * PIXELS);
  const out = new Uint8Array(count);
  const labelByte = labels === 'coarse' ? 0 : 1;
  for (let i = 0; i < count; i++) {
    const rec = i * RECORD;
    const label = bytes[rec + labelByte]!;
    if (label >= classCount) {
      throw new GradsyncError('DATA_BAD_LABEL', `${fileName}: record ${i} has ${labels} label ${label}; ${labels} labels must be 0..${classCount - 1}`);
    }
    out[i] = label;
    const image = i * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      for (let c = 0; c < 3; c++) images[image + p * 3 + c] = bytes[rec + 2 + c * PIXELS + p]!;
    }
  }
  return { images, labels: out, count };
}

/** Whether `dir` holds CIFAR-100 binary files (directly, in cifar-100-binary/, or as the archive). */
export async function isCifar100(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.includes(CIFAR100_ARCHIVE) || names.includes(CIFAR100_FOLDER) || (names.includes('train.bin') && names.includes('fine_label_names.txt'));
}

async function readFiles(dir: string): Promise<{ where: string; files: Map<string, Uint8Array> }> {
  const names = await readdir(dir);
  if (!names.includes('train.bin') && !names.includes(CIFAR100_FOLDER) && names.includes(CIFAR100_ARCHIVE)) {
    const archive = join(dir, CIFAR100_ARCHIVE);
    const { files } = await readTarEntries(archive, (entry) => (FILES as readonly string[]).includes(basename(entry)));
    return { where: `archive ${archive}`, files: new Map([...files].map(([entry, bytes]) => [basename(entry), bytes])) };
  }
  const folder = names.includes('train.bin') ? dir : join(dir, CIFAR100_FOLDER);
  const files = new Map<string, Uint8Array>();
  for (const name of FILES) {
    if (await stat(join(folder, name)).catch(() => null)) files.set(name, await readFile(join(folder, name)));
  }
  return { where: `folder ${folder}`, files };
}

/** Reads CIFAR-100 from a folder (see the module comment); every file must be there. */
export async function readCifar100(dir: string, labels: Cifar100Labels = 'fine'): Promise<ImageDataset> {
  const { where, files } = await readFiles(dir);
  const missing = FILES.filter((name) => !files.has(name));
  if (missing.length > 0) throw new GradsyncError('DATA_MISSING_FILES', `${where}: CIFAR-100 files missing: ${missing.join(', ')}`);
  const namesFile = labels === 'fine' ? 'fine_label_names.txt' : 'coarse_label_names.txt';
  const classNames = new TextDecoder()
    .decode(files.get(namesFile))
    .split(/\r?\n/)
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const expected = labels === 'fine' ? 100 : 20;
  if (classNames.length !== expected) throw new GradsyncError('DATA_BAD_META', `${where}: ${namesFile} names ${classNames.length} classes, not ${expected}`);
  const split = (name: string) => parseCifar100Records(files.get(name)!, `${where}/${name}`, labels, classNames.length);
  const train = split('train.bin');
  const test = split('test.bin');
  return {
    train,
    test,
    classNames,
    shape: { height: 32, width: 32, channels: 3 },
    source: `CIFAR-100 ${where} (${labels} labels: ${classNames.length} classes; ${train.count} train and ${test.count} test images)`,
  };
}
