/**
 * Loading any data set gradsync trains on from --data-dir, recognising its layout by itself
 * (`--data-format` to name it): CIFAR-100's binary files, an image folder, else CIFAR-10 (whose own
 * reader names any file missing). Without --data-dir it is CIFAR-10 from the cache or a download.
 */
import { statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { GradsyncError } from '@gradsync/core';
import { type Cifar100Labels, isCifar100, readCifar100 } from './cifar100';
import type { DecoderName, TargetSize } from './image-decode';
import { isImageFolder, readImageFolder } from './image-folder';
import { loadCifar10, type LoadCifar10Options } from './load';
import type { ImageDataset } from './types';

export const DATA_FORMATS = ['auto', 'cifar10', 'cifar100', 'image-folder'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** How to read the data, beyond where it is: the flags --data-format, --image-size, --channels, --labels, --test-fraction. */
export interface DataReadOptions {
  format?: DataFormat;
  /** Image folders: resize every image once at load. */
  imageSize?: TargetSize;
  /** Image folders: force greyscale (1) or colour (3). */
  channels?: 1 | 3;
  /** CIFAR-100: fine (100 classes, default) or coarse (20) labels. */
  labels?: Cifar100Labels;
  /** An image folder of one tree: each class's share held out for the test split. */
  testFraction?: number;
  decoder?: DecoderName | 'auto';
}

export interface LoadDatasetOptions extends LoadCifar10Options, DataReadOptions {
  /** An image folder read without --image-size or --channels takes these (a model's input, for `evaluate`). */
  imageFallback?: { height: number; width: number; channels: 1 | 3 };
}

/** Which reader a folder takes. */
export async function detectDataFormat(dataDir: string | undefined): Promise<Exclude<DataFormat, 'auto'>> {
  if (dataDir === undefined || !statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) return 'cifar10';
  if (await isCifar100(dataDir)) return 'cifar100';
  if (isImageFolder(dataDir)) return 'image-folder';
  return 'cifar10';
}

export async function loadDataset(options: LoadDatasetOptions = {}): Promise<ImageDataset> {
  const log = options.log ?? (() => {});
  if (options.dataDir !== undefined && !statSync(options.dataDir, { throwIfNoEntry: false })) {
    throw new GradsyncError('DATA_NOT_FOUND', `data path ${options.dataDir} does not exist (--data-dir)`);
  }
  const format = !options.format || options.format === 'auto' ? await detectDataFormat(options.dataDir) : options.format;
  const imageOnly = (['imageSize', 'channels', 'testFraction'] as const).filter((k) => options[k] !== undefined);
  if (format !== 'image-folder' && imageOnly.length > 0) {
    throw new GradsyncError('E_CONFIG', `${imageOnly.map(flagOf).join(', ')} applies to image folders; ${options.dataDir ?? 'the data'} is ${format}`);
  }
  if (format !== 'cifar100' && options.labels !== undefined) throw new GradsyncError('E_CONFIG', `--labels applies to CIFAR-100; the data is ${format}`);
  if (format === 'cifar10') return loadCifar10(options);
  if (options.dataDir === undefined) throw new GradsyncError('E_CONFIG', `--data-format ${format} needs --data-dir`);
  const started = performance.now();
  const fallback = options.imageFallback;
  const folderOptions = fallback
    ? { ...options, imageSize: options.imageSize ?? { height: fallback.height, width: fallback.width }, channels: options.channels ?? fallback.channels }
    : options;
  const data = format === 'cifar100' ? await readCifar100(options.dataDir, options.labels) : await readFolderWithProgress(options.dataDir, folderOptions);
  log(`loaded in ${((performance.now() - started) / 1000).toFixed(2)} s: ${data.source}`);
  return data;
}

function flagOf(key: 'imageSize' | 'channels' | 'testFraction'): string {
  return { imageSize: '--image-size', channels: '--channels', testFraction: '--test-fraction' }[key];
}

/** A progress bar on a terminal while the images decode (a large folder takes minutes); nothing when piped. */
async function readFolderWithProgress(dir: string, options: LoadDatasetOptions): Promise<ImageDataset> {
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'decoding images [{bar}] {value}/{total} {eta_formatted} left', stream: process.stderr, hideCursor: true })
    : null;
  try {
    return await readImageFolder(dir, {
      ...options,
      onProgress: (done, total) => {
        if (done === 1) bar?.start(total, 0);
        bar?.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
}

/** Parses --image-size: `H` (square) or `HxW`. */
export function parseImageSize(text: string): TargetSize {
  const match = /^(\d+)(?:[x×](\d+))?$/.exec(text.trim());
  const [height, width] = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [NaN, NaN];
  if (!(height >= 1 && height <= 8192 && width >= 1 && width <= 8192)) {
    throw new GradsyncError('E_CONFIG', `--image-size "${text}" is not H or HxW with sides from 1 to 8192 (for example 64 or 224x224)`);
  }
  return { height, width };
}
