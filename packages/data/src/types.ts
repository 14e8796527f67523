/** The in-memory CIFAR-10 types and the constants of the official binary layout. */

/** One split of the data set, images already in HWC (NHWC) order. */
export interface CifarSplit {
  /** count*32*32*3 bytes, converted at read to HWC (NHWC) order, ready for tf.tensor4d. */
  images: Uint8Array;
  /** count labels, each 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface Cifar10 {
  train: CifarSplit;
  test: CifarSplit;
  classNames: string[];
  /** Human description of where the data came from. */
  source: string;
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
