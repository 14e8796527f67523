import { GradsyncError } from '@gradsync/core';

/** The in-memory data set types, and the constants of CIFAR-10's official binary layout. */

/** Height, width and channels (1: greyscale, 3: colour) of every image of a data set. */
export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** One split: `count` images of one shape, HWC bytes back to back; labels index the class names. */
export interface ImageSplit {
  images: Uint8Array;
  /** Uint8Array up to 256 classes, Uint16Array beyond. */
  labels: Uint8Array | Uint16Array;
  count: number;
}

export interface ImageDataset {
  train: ImageSplit;
  test: ImageSplit;
  classNames: string[];
  shape: ImageShape;
  /** Human description of where the data came from. */
  source: string;
}

/** CIFAR-10 is one such data set: 32×32 RGB, 10 classes, 8-bit labels. */
export type Cifar10 = ImageDataset;
export type CifarSplit = ImageSplit;
/** CIFAR-10's image shape. */
export const CIFAR_SHAPE: ImageShape = Object.freeze({ height: 32, width: 32, channels: 3 });

/** The labels' bytes as stored (little-endian for 16-bit labels): what checksums hash and the wire carries. */
export function labelBytes(labels: Uint8Array | Uint16Array): Uint8Array {
  return labels instanceof Uint8Array ? labels : new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength);
}

/** Bytes of one image of a split, whatever the data's shape: a split holds whole images (0 when empty). */
export function bytesPerImage(split: { images: Uint8Array; count: number }): number {
  if (split.count === 0) return 0;
  const bytes = split.images.length / split.count;
  if (!Number.isInteger(bytes))
    throw new GradsyncError('DATA_BAD_SPLIT', `a split of ${split.count} images holds ${split.images.length} bytes, not a whole number per image`);
  return bytes;
}

/** Bytes of one image of this shape (HWC). */
export function imageBytes(shape: ImageShape): number {
  return shape.height * shape.width * shape.channels;
}

export const IMAGE_SIDE = 32;
export const IMAGE_CHANNELS = 3;
export const PIXELS_PER_IMAGE = IMAGE_SIDE * IMAGE_SIDE; // 1024
export const IMAGE_BYTES = PIXELS_PER_IMAGE * IMAGE_CHANNELS; // 3072
/** One label byte then the 3072 CHW pixel bytes. */
export const RECORD_BYTES = 1 + IMAGE_BYTES; // 3073
export const NUM_CLASSES = 10;
/** Records per file in the official set (smaller files in the same layout are accepted). */
export const OFFICIAL_RECORDS_PER_FILE = 10_000;
export const OFFICIAL_TRAIN_FILES = 5;

export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);

/** Folder name inside the official archive. */
export const BATCHES_FOLDER = 'cifar-10-batches-bin';
export const ARCHIVE_FILE_NAME = 'cifar-10-binary.tar.gz';
export const META_FILE_NAME = 'batches.meta.txt';
export const TEST_FILE_NAME = 'test_batch.bin';

/** `data_batch_1.bin` … `data_batch_<trainFiles>.bin`. */
export function trainFileNames(trainFiles: number = OFFICIAL_TRAIN_FILES): string[] {
  return Array.from({ length: trainFiles }, (_, i) => `data_batch_${i + 1}.bin`);
}
