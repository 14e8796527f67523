/** Writes CIFAR-10 in the official binary layout (as a folder of batch files, or as the .tar.gz). */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { create as tarCreate } from 'tar';
import { GradsyncError } from '@gradsync/core';
import { checkSplitShape, encodeCifarRecords } from './format';
import { shardOfBatch } from './sampler';
import {
  BATCHES_FOLDER,
  CIFAR10_CLASS_NAMES,
  IMAGE_BYTES,
  META_FILE_NAME,
  NUM_CLASSES,
  OFFICIAL_TRAIN_FILES,
  TEST_FILE_NAME,
  trainFileNames,
  type CifarSplit,
} from './types';

const gzipAsync = promisify(gzip);

export interface Cifar10Data {
  train: CifarSplit;
  test: CifarSplit;
  classNames?: string[];
}

export interface WriteCifar10Options {
  /** Training files data_batch_1..N, the images split as evenly as possible; default 5. */
  trainFiles?: number;
  /** Write `.bin.gz` instead of `.bin`. */
  gzip?: boolean;
}

/**
 * Writes data_batch_1..N.bin, test_batch.bin (or .bin.gz) and batches.meta.txt into `dir`
 * (created if needed). Returns the paths written.
 */
export async function writeCifar10Binary(dir: string, data: Cifar10Data, options: WriteCifar10Options = {}): Promise<string[]> {
  const trainFiles = options.trainFiles ?? OFFICIAL_TRAIN_FILES;
  checkSplitShape(data.train, 'train');
  checkSplitShape(data.test, 'test');
  if (!Number.isInteger(trainFiles) || trainFiles < 1) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `trainFiles must be a positive integer, got ${trainFiles}`);
  }
  if (data.train.count < trainFiles) {
    throw new GradsyncError(
      'DATA_BAD_ARGUMENT',
      `${data.train.count} training images cannot fill ${trainFiles} training files (each needs at least one record)`,
    );
  }
  if (data.test.count < 1) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', 'the test split is empty; test_batch.bin needs at least one record');
  }
  const classNames = data.classNames ?? [...CIFAR10_CLASS_NAMES];
  if (classNames.length !== NUM_CLASSES || classNames.some((n) => n.trim() === '' || /[\r\n]/.test(n))) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `classNames must be ${NUM_CLASSES} non-empty single-line names`);
  }

  await mkdir(dir, { recursive: true });
  const suffix = options.gzip ? '.gz' : '';
  const other = options.gzip ? '' : '.gz';
  const written: string[] = [];
  const put = async (name: string, split: CifarSplit) => {
    const records = encodeCifarRecords(split);
    const bytes = options.gzip ? await gzipAsync(records, { level: 6 }) : records;
    const path = join(dir, name + suffix);
    await writeFile(path, bytes);
    // A stale file of the other compression would shadow (or be shadowed by) this one.
    await rm(join(dir, name + other), { force: true });
    written.push(path);
  };
  const names = trainFileNames(trainFiles);
  for (let f = 0; f < trainFiles; f++) {
    const { start, end } = shardOfBatch(data.train.count, trainFiles, f);
    await put(names[f], sliceSplit(data.train, start, end));
  }
  await put(TEST_FILE_NAME, data.test);
  const metaPath = join(dir, META_FILE_NAME);
  await writeFile(metaPath, classNames.join('\n') + '\n\n');
  written.push(metaPath);
  return written;
}

/**
 * Writes the official archive layout, a gzipped tar holding `cifar-10-batches-bin/` with the
 * batch files, to `archivePath` (written to a temporary file, then renamed).
 */
export async function writeCifar10Archive(archivePath: string, data: Cifar10Data, options: Omit<WriteCifar10Options, 'gzip'> = {}): Promise<void> {
  await mkdir(dirname(archivePath), { recursive: true });
  const staging = await mkdtemp(join(dirname(archivePath), '.cifar10-staging-'));
  const partial = `${archivePath}.${process.pid}.part`;
  try {
    await writeCifar10Binary(join(staging, BATCHES_FOLDER), data, { ...options, gzip: false });
    await tarCreate({ gzip: true, file: partial, cwd: staging, portable: true }, [BATCHES_FOLDER]);
    await rename(partial, archivePath);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

function sliceSplit(split: CifarSplit, start: number, end: number): CifarSplit {
  return {
    images: split.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}
